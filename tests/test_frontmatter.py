"""Reading a Hexo source file (articles.importer.frontmatter): bytes, front matter, dates. Pure, no database.

The front matter samples copy the two formats the RSSHUB-PAGE generator wrote: the newer one (leading
blank line, one-space list indent, ``headimg``) and the older one (blank line inside the front matter,
four-space list indent, no ``headimg``).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from articles.importer.frontmatter import ImportFileError, decode_bytes, parse_date, read_source_file, split_front_matter

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")

SEED_LIKE = """
---
title: '推动高质量发展 创造高品质生活'
categories: 
 - 新媒体
 - ZAKER
 - source
headimg: 'https://cors.zfour.workers.dev/?http://zkres2.myzaker.com/202208/62e71e708e9f0940445ab815_1024.jpg'
author: ZAKER
comments: false
date: Sun, 31 Jul 2022 22:26:46 GMT
thumbnail: 'https://cors.zfour.workers.dev/?http://zkres2.myzaker.com/202208/62e71e708e9f0940445ab815_1024.jpg'
---

<div>   
<p>正文。</p>
</div>
            """  # noqa: W291 - the generator's trailing spaces are part of the format

OLDER_FORMAT = """
---
title: '一滴水，折射深情关怀的光辉'
categories: 
    - 新媒体
    - ZAKER
    - source

author: ZAKER
comments: false
date: Mon, 22 Mar 2021 00:25:00 GMT
thumbnail: 'http://zkres1.myzaker.com/202103/6058547b8e9f092dd6138474_1024.jpg'
---

<div><p>我是一滴水</p></div>"""  # noqa: W291


# --- parse_date ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 31 Jul 2022 22:26:46 GMT", dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC)),
        ("Sun, 31 Jul 2022 22:26:46 +0800", dt.datetime(2022, 7, 31, 14, 26, 46, tzinfo=UTC)),
        ("Sun, 31 Jul 2022 22:26:46 -0000", dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC)),  # RFC 2822: UTC
        ("2022-07-31T22:26:46Z", dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC)),
        ("2022-07-31T22:26:46+08:00", dt.datetime(2022, 7, 31, 14, 26, 46, tzinfo=UTC)),
        ("2022-07-31 22:26:46", dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=SHANGHAI)),
        ("2022-07-31 22:26:46 CST", dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=SHANGHAI)),
        ("Sun, 31 Jul 2022 22:26:46 CST", dt.datetime(2022, 7, 31, 14, 26, 46, tzinfo=UTC)),  # not US Central
        (dt.datetime(2022, 7, 31, 22, 26, 46), dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=SHANGHAI)),  # YAML, naive
        (dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC), dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC)),
        (dt.date(2022, 7, 31), dt.datetime(2022, 7, 31, tzinfo=SHANGHAI)),  # YAML date
        (None, None),
        ("", None),
    ],
)
def test_parse_date(value, expected):
    parsed = parse_date(value)
    assert parsed == expected  # aware datetimes compare as instants: an 8-hour slip fails here
    assert parsed is None or parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", "Sun, 32 Jul 2022 22:26:46 GMT"])
def test_parse_date_rejects_garbage(value):
    with pytest.raises(ImportFileError, match=value.split()[0]):
        parse_date(value)


# --- split_front_matter ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "meta", "body_start"),
    [
        pytest.param(
            SEED_LIKE,
            {
                "title": "推动高质量发展 创造高品质生活",
                "categories": ["新媒体", "ZAKER", "source"],
                "headimg": "https://cors.zfour.workers.dev/?http://zkres2.myzaker.com/202208/62e71e708e9f0940445ab815_1024.jpg",
                "author": "ZAKER",
                "comments": False,
                "date": "Sun, 31 Jul 2022 22:26:46 GMT",
                "thumbnail": "https://cors.zfour.workers.dev/?http://zkres2.myzaker.com/202208/62e71e708e9f0940445ab815_1024.jpg",
            },
            "\n\n<div>",
            id="seed-like-leading-blank-line",
        ),
        pytest.param(
            OLDER_FORMAT,
            {
                "title": "一滴水，折射深情关怀的光辉",
                "categories": ["新媒体", "ZAKER", "source"],
                "author": "ZAKER",
                "comments": False,
                "date": "Mon, 22 Mar 2021 00:25:00 GMT",
                "thumbnail": "http://zkres1.myzaker.com/202103/6058547b8e9f092dd6138474_1024.jpg",
            },
            "\n\n<div><p>我是一滴水",
            id="older-format-blank-line-and-4-space-indent",
        ),
        pytest.param(
            "---\ntitle: '10年耕地面积锐减40%：\"天府粮仓\"究竟怎么了_'\n---\n<p>正文</p>",
            {"title": '10年耕地面积锐减40%："天府粮仓"究竟怎么了_'},
            "\n<p>正文",
            id="raw-double-quotes-in-single-quoted-title",
        ),
        pytest.param("---\r\ntitle: 'CRLF'\r\n---\r\n<p>正文</p>", {"title": "CRLF"}, "\n<p>正文", id="crlf-line-ends"),
        pytest.param("---\n---\n<p>正文</p>", {}, "\n<p>正文", id="empty-front-matter"),
    ],
)
def test_split_front_matter(text, meta, body_start):
    got_meta, body = split_front_matter(text)
    assert got_meta == meta
    assert body.startswith(body_start)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<div><p>正文</p></div>", "no front matter"),
        ("\n---\ntitle: 'a'\n<p>正文</p>", "not closed"),
        ("---\ntitle: a\ndate: Sun, 31 Jul 2022\nauthor: a: b\n---\n", "line 4"),  # bad line 4 of the file
        ("\n---\ntitle: a\ncategories: \n - 新媒体\n  source: x\n---\n", "line 6"),  # after a leading blank line
        ("---\n- 新媒体\n- ZAKER\n---\n", "not a mapping"),
    ],
)
def test_split_front_matter_errors(text, message):
    with pytest.raises(ImportFileError, match=message):
        split_front_matter(text)


def test_invalid_yaml_message_names_the_file_line():
    with pytest.raises(ImportFileError) as error:
        split_front_matter("---\ntitle: a\ndate: x\nauthor: a: b\n---\n")
    assert str(error.value).startswith("invalid YAML in front matter at line 4:")


# --- decode_bytes ----------------------------------------------------------------------------------

LIMIT = 10_000


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("---\ntitle: '重庆'\n---\n".encode(), "---\ntitle: '重庆'\n---\n", "utf-8"),
        ("\ufeff---\ntitle: '重庆'\n---\n".encode(), "---\ntitle: '重庆'\n---\n", "utf-8"),  # BOM dropped
        ("---\ntitle: '重庆'\n---\n<p>正文</p>".encode("gbk"), "---\ntitle: '重庆'\n---\n<p>正文</p>", "gb18030"),
        ("---\ntitle: '天府粮仓'\n---\n".encode("gb18030"), "---\ntitle: '天府粮仓'\n---\n", "gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030"],
)
def test_decode_bytes(data, text, encoding):
    assert decode_bytes(data, max_bytes=LIMIT) == (text, encoding)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00", "UTF-16"),
        ("---\ntitle: a\n---\n".encode("utf-16"), "UTF-16"),
        (b"---\ntitle: \x80\x81\xfe\xff\n", "not UTF-8"),  # not GB18030 either
        (b"---\ntitle: \xa3\xa1\xa3\xa1\n", "not UTF-8"),  # decodes as GB18030, but to no Chinese at all
        ("---\ntitle: 重庆\n---\n<p>正\x00文</p>".encode(), "NUL character \\(line 4\\)"),
        (b"x" * (LIMIT + 1), "over the limit of 10,000 bytes"),
    ],
    ids=["utf-16-bom-garbage", "utf-16", "undecodable", "gb18030-without-chinese", "nul", "too-big"],
)
def test_decode_bytes_errors(data, message):
    with pytest.raises(ImportFileError, match=message):
        decode_bytes(data, max_bytes=LIMIT)


def test_read_source_file_keeps_the_verbatim_text():
    source = read_source_file(SEED_LIKE.encode(), max_bytes=LIMIT)
    assert source.text == SEED_LIKE
    assert source.encoding == "utf-8"
    assert source.meta["title"] == "推动高质量发展 创造高品质生活"
    assert parse_date(source.meta["date"]) == dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC)
    assert source.body.strip().startswith("<div>")
