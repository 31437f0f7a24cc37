"""import_articles PATH [PATH ...]: Markdown files, folders, or export_articles NDJSON."""

from django.core.management.base import BaseCommand, CommandError

from articles.importer.run import format_result_lines, import_paths

STYLES = {"failed": "ERROR", "duplicate": "WARNING", "skipped": "WARNING", "created": "SUCCESS", "updated": "SUCCESS"}


class Command(BaseCommand):
    help = "Import syndicated Markdown articles (files or folders) or an export_articles NDJSON dump."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen; write nothing.")
        parser.add_argument("--publish", action="store_true",
                            help="Publish new articles that have a date and no quality warnings (default: draft).")
        parser.add_argument("--download-images", action="store_true", help="Fetch, validate and store remote images.")
        parser.add_argument("--force", action="store_true", help="Overwrite articles edited in the admin since import.")

    def handle(self, *args, paths, dry_run, publish, download_images, force, **options):
        def show(result, number, total):
            style = getattr(self.style, STYLES.get(result.status, "NOTICE"))
            first, *warnings = format_result_lines(result, number, total)
            self.stdout.write(style(first))
            for line in warnings:
                self.stdout.write(line)

        report = import_paths(paths, dry_run=dry_run, publish=publish, download_images=download_images,
                              force=force, on_result=show)
        prefix = "Dry run, nothing saved. " if dry_run else ""
        self.stdout.write(prefix + report.summary())
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) failed")
