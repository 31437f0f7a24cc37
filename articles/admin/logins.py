"""Login throttling's records in the admin (django-axes; README "Security"): who is locked out, and unlocking.

Registered here instead of by axes (``AXES_ENABLE_ADMIN = False`` in settings) to mend its one action:
in axes 8.3.1 "Clean up expired attempts" fails with an AttributeError (a 500), since an admin request never
went through axes' login handling, which stamps the attempt time the cleanup measures from
(jazzband/django-axes#1424; #1484 proposes the fix). Unlocking a user at an address is deleting that
attempt row. Only superusers hold these models' permissions: no role (group) is given them.
"""

from axes.admin import AccessAttemptAdmin, AccessLogAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessLog
from django.contrib import admin


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description="清理已过冷却期的失败记录")
    def cleanup_expired_attempts(self, request, queryset):
        AxesProxyHandler.update_request(request)  # the request's time, from which the cool-off is counted back
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(request, f"已清理 {count} 条已过冷却期的登录失败记录。")


admin.site.register(AccessLog, AccessLogAdmin)
