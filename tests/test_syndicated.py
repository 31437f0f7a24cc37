"""Repair of syndicated ZAKER / Sina / NBD bodies (articles.importer.syndicated): pure, no database.

Every snippet is a cut-down copy of a pattern seen in the real corpus (the Chongqing seed article,
the 天府粮仓 and 三明 ZAKER posts, the 新华社 蔬菜 item, the 宁夏 and 27省份 Sina pages). The repaired
HTML is always checked *after* ``clean_body_html``, because that is what gets stored.
"""

import pytest

from articles.extraction.credits import CreditLine, Person
from articles.importer.syndicated import (
    ImageRef,
    decode_app_link,
    is_boilerplate_image,
    is_placeholder_image,
    repair_body,
    unwrap_proxy,
)
from articles.sanitize import clean_body_html, html_to_text

ZK_IMG = "http://zkres2.myzaker.com/202208/62e71e708e9f0940445ab815_1024.jpg"
PROXY = "https://cors.zfour.workers.dev/?"
SINA_QR = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
SEED_APP_LINK = (
    "http://iphone.myzaker.com/zaker/link.php?pk=62e71e708e9f0940445ab814"
    "&b=aHR0cHM6Ly93YXAucGVvcGxlYXBwLmNvbS9hcnRpY2xlLzY4MjE4MDcvamF2YXNjcmlwdDo7&bcode=725a911f&target=_new"
)
# The 新华社 item's 【纠错】 link: base64 of "http://www.news.cn/politics/2022-04/12/javascript:void(0);"
VOID_APP_LINK = (
    "http://iphone.myzaker.com/zaker/link.php?pk=6257f9edb15ec0435a474ca5"
    "&b=aHR0cDovL3d3dy5uZXdzLmNuL3BvbGl0aWNzLzIwMjItMDQvMTIvamF2YXNjcmlwdDp2b2lkKDApOw==&bcode=95d5d730&target=_new"
)


def img_box(url=ZK_IMG, width=520, height=659):
    """A ZAKER lazy image box, exactly as the generator writes it."""
    return (
        '<div class="img_box" id="id_imagebox_0" onclick><div class="content_img_div perview_img_div">'
        f'<img class="lazy opacity_0 " id="img_0" data-original="{url}" data-height="{height}" data-width="{width}" '
        f'src="{PROXY}{url}" referrerpolicy="no-referrer"></div></div>'
    )


def repaired(html):
    result = repair_body(html)
    return result, clean_body_html(result.html)


def reporters(*names, role="reporter"):
    return tuple(Person(n, role) for n in names)


# --- URL helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (PROXY + ZK_IMG, ZK_IMG),
        ("http://cors.zfour.workers.dev/?http://zkres1.myzaker.com/a.jpg", "http://zkres1.myzaker.com/a.jpg"),
        (PROXY + "http%3A%2F%2Fzkres1.myzaker.com%2Fa.jpg", "http://zkres1.myzaker.com/a.jpg"),
        (ZK_IMG, ZK_IMG),
        ("//v.qq.com/iframe/player.html?vid=y3235pplkt6", "https://v.qq.com/iframe/player.html?vid=y3235pplkt6"),
        ("", ""),
        (None, ""),
    ],
)
def test_unwrap_proxy(url, expected):
    assert unwrap_proxy(url) == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (SEED_APP_LINK, ("https://wap.peopleapp.com/article/6821807", "62e71e708e9f0940445ab814")),
        (VOID_APP_LINK, ("http://www.news.cn/politics/2022-04/12", "6257f9edb15ec0435a474ca5")),
        # b= is not base64 of a URL: the original URL is unknown, the ZAKER item id is still kept
        ("http://iphone.myzaker.com/zaker/link.php?pk=abc123&b=!!!%%%", ("", "abc123")),
        ("http://iphone.myzaker.com/zaker/link.php?pk=abc123&b=/w==", ("", "abc123")),  # not UTF-8
        ("https://www.example.com/zaker/link.php?pk=abc123&b=aHR0cHM6Ly9hLmNuLw==", ("", "")),
        ("", ("", "")),
    ],
)
def test_decode_app_link(href, expected):
    assert decode_app_link(href) == expected


@pytest.mark.parametrize(
    ("url", "placeholder", "boilerplate"),
    [
        ("https://picsum.photos/400/300?random=4816", True, False),
        (SINA_QR, False, True),
        (ZK_IMG, False, False),
        ("", False, False),
    ],
)
def test_placeholder_and_boilerplate_images(url, placeholder, boilerplate):
    assert is_placeholder_image(url) is placeholder
    assert is_boilerplate_image(url) is boilerplate


# --- repair_body: the HTML that is left, after sanitizing ------------------------------------------

BODY_CASES = [
    pytest.param(
        f"<div><p></p>{img_box()}在成都西郊一个典型的传统纯农业社区，农民在种植水稻<p></p><p>正文。</p></div>",
        f'<figure><img alt="在成都西郊一个典型的传统纯农业社区，农民在种植水稻" decoding="async" height="659" loading="lazy" '
        f'referrerpolicy="no-referrer" src="{ZK_IMG}" width="520">'
        "<figcaption>在成都西郊一个典型的传统纯农业社区，农民在种植水稻</figcaption></figure>\n<p>正文。</p>",
        id="lazy-image-box-with-bare-caption",
    ),
    pytest.param("<p></p><p>正文。</p><p></p><p>31</p>", "<p>正文。</p>", id="empty-paragraphs-and-page-counter"),
    pytest.param(
        '<div><p>正文。</p><div id="recommend_bottom"></div><div id="article_bottom"></div></div>',
        "<p>正文。</p>",
        id="empty-placeholder-divs",
    ),
    pytest.param(
        f'<p>正文。</p><p><a href="{SEED_APP_LINK.replace("&", "&amp;")}" class="atc-block-btn" target="_blank">'
        "打开 APP 阅读全文</a></p>",
        "<p>正文。</p>",
        id="open-in-app-link",
    ),
    pytest.param(
        '<p><a href="https://mp.weixin.qq.com/s?__biz=x" id="copyright_info" target="_blank">" 中华第一刊 "《半月谈》官微</a></p>'
        '<p><a class="weui-flex original_primary_card appmsg_card_context" href="https://mp.weixin.qq.com/s?__biz=x">半月谈</a></p>'
        "<p>，时长 01:13</p><p>四川成都平原地理条件优越。</p>",
        "<p>四川成都平原地理条件优越。</p>",
        id="wechat-cards-and-video-remnant",
    ),
    pytest.param(
        '<div class="iframe_video"><iframe src="//v.qq.com/iframe/player.html?vid=x" allowfullscreen frameborder="0"></iframe>'
        "</div><p></p><p>这是一块红色圣地</p>",
        '<p><a href="https://v.qq.com/iframe/player.html?vid=x">视频</a></p>\n<p>这是一块红色圣地</p>',
        id="iframe-becomes-link",
    ),
    pytest.param(
        '<p class="ori_titlesource">\u3000\u3000原标题：X 来源：央视新闻客户端</p><p>\u3000\u3000正文。</p>'
        '<p class="article-editor">责任编辑：王珊珊 </p>',
        "<p>正文。</p>",  # the full-width indent goes too
        id="sina-origin-and-editor-lines",
    ),
    pytest.param(
        "<p>正文。</p><style>.appendQr_wrap&#123;border:1px solid #E6E6E6;&#125;</style>"
        f'<div class="clearfix appendQr_wrap"><div class="appendQr_normal"><img src="{SINA_QR}" referrerpolicy="no-referrer">'
        '</div><div class="appendQr_normal_txt">海量资讯、精准解读，尽在新浪财经APP</div></div>',
        "<p>正文。</p>",
        id="sina-qr-widget-and-style",
    ),
    pytest.param(
        '<p>正文。</p><!--article_adlist[<p>hidden</p>]article_adlist--><!--article_adlist[<p cms-style="font-M">-->',
        "<p>正文。</p>",
        id="comments-holding-markup",
    ),
    pytest.param(
        '<p>宁夏<span id="stock_sh600586"><a href="https://finance.sina.com.cn/realstock/company/sh600586/nc.shtml" '
        'class="keyword" target="_blank">金晶科技</a></span><span id="quote_sh600586"></span>有限公司</p>',
        "<p>宁夏金晶科技有限公司</p>",
        id="stock-ticker-keeps-text-not-link",
    ),
    pytest.param(
        "<p>第一段。</p><p>第二段。</p><p>第三段。</p>",
        "<p>第一段。</p>\n<p>第二段。</p>\n<p>第三段。</p>",
        id="prose-in-order",
    ),
    pytest.param(
        "<p><span><strong>小标题</strong></span></p>            <p><span>身为全国面积最小的经济特区。</span></p>",
        "<p><strong>小标题</strong></p>\n<p>身为全国面积最小的经济特区。</p>",
        id="nbd-strong-subtitle",
    ),
    pytest.param(
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; 不是代码，是文字。</p>",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; 不是代码，是文字。</p>",
        id="escaped-markup-stays-text",
    ),
    pytest.param(
        "<div>&lt;b&gt;粗体&lt;/b&gt; A &amp; B</div>",
        "<p>&lt;b&gt;粗体&lt;/b&gt; A &amp; B</p>",
        id="escaped-markup-in-bare-text-node",
    ),
]


@pytest.mark.parametrize(("html", "expected"), BODY_CASES)
def test_repair_body_html(html, expected):
    _, clean = repaired(html)
    assert clean == expected


def test_repaired_figure_has_no_scraper_attributes():
    _, clean = repaired(f"<div><p></p>{img_box()}图说<p></p></div>")
    for leftover in ("class=", "id=", "onclick", "data-", "cors.zfour"):
        assert leftover not in clean
    # The sanitizer's own fixed value (articles.sanitize.IMG_FIXED_ATTRIBUTES), not the scraper's attribute.
    assert clean.count("referrerpolicy=") == clean.count('referrerpolicy="no-referrer"') == 1


# --- repair_body: credits moved out of the body -----------------------------------------------------

CREDIT_CASES = [
    pytest.param(
        "<p>近年来，重庆在发展中保护绿水青山。</p><p>（本报记者王斌来、崔佳）</p><p></p><p>31</p>",
        [CreditLine("reporters", reporters("王斌来", "崔佳"), staff_of_publisher=True)],
        "近年来，重庆在发展中保护绿水青山。",
        id="staff-reporters-paragraph",
    ),
    pytest.param(
        "<p>已累计向上海供应蔬菜 1.8 万吨，米面 850 吨。（记者田晓航、宋晨） </p>",
        [CreditLine("reporters", reporters("田晓航", "宋晨"))],
        "已累计向上海供应蔬菜 1.8 万吨，米面 850 吨。",
        id="trailing-reporters-split-off-prose",
    ),
    pytest.param(
        f'<p>正文。</p><p><a href="{VOID_APP_LINK.replace("&", "&amp;")}" class="advise" target="_blank">【纠错】</a>'
        "【责任编辑 : 邱丽芳】</p>",
        [CreditLine("editor", reporters("邱丽芳", role="editor"))],
        "正文。",
        id="xinhua-correction-link-and-editor",
    ),
    pytest.param(
        "<p>正文。</p><p>【纠错】【责任编辑 : 邱丽芳】</p>",
        [CreditLine("editor", reporters("邱丽芳", role="editor"))],
        "正文。",
        id="plain-correction-and-editor",
    ),
    pytest.param(
        '<p class="ori_titlesource">\u3000\u3000原标题：X 来源：央视新闻客户端</p><p>正文。</p>',
        [CreditLine("origin", organizations=("央视新闻客户端",))],
        "正文。",
        id="sina-original-title-origin",
    ),
    pytest.param(
        '<p>正文。</p><p class="article-editor">责任编辑：王珊珊 </p>',
        [CreditLine("editor", reporters("王珊珊", role="editor"))],
        "正文。",
        id="sina-article-editor",
    ),
]


@pytest.mark.parametrize(("html", "credits", "text"), CREDIT_CASES)
def test_repair_body_credits(html, credits, text):
    result, clean = repaired(html)
    assert result.credits == credits
    assert html_to_text(clean) == text


# --- repair_body: images, captions and image credits ------------------------------------------------

SEED_DATA_SOURCE = CreditLine(
    "data_source", organizations=("中共重庆市委组织部", "重庆市统计局", "重庆市生态环境局", "重庆市林业局")
)
SEED_PHOTO = CreditLine("photo", reporters("何超", role="photographer"))

IMAGE_CASES = [
    pytest.param(
        f"<div><p></p>{img_box()}这是一方美丽家园<p></p><p>正文。</p></div>",
        [ImageRef(ZK_IMG, 520, 659, caption="这是一方美丽家园")],
        id="bare-caption-after-box",
    ),
    pytest.param(
        f"<div><p></p>{img_box()}数据来源：中共重庆市委组织部 重庆市统计局、生态环境局、林业局<p></p>"
        "<p>底图：重庆渝中半岛，城市风貌日新月异。</p><p>何 超摄</p><p>智能车间，生产线上的机器手臂有序挥舞。</p></div>",
        [ImageRef(ZK_IMG, 520, 659, caption="底图：重庆渝中半岛，城市风貌日新月异。", credits=[SEED_DATA_SOURCE, SEED_PHOTO])],
        id="seed-data-source-caption-and-photographer",
    ),
    pytest.param(
        '<p>正文。</p><div class="img_wrapper"><img src="https://n.sinaimg.cn/x/1.png" alt="123.png"></div><p>正文二。</p>',
        [ImageRef("https://n.sinaimg.cn/x/1.png")],
        id="file-name-alt-ignored",
    ),
    pytest.param(
        '<p><img src="http://nbd.com/divider.png"></p><p>第一段文字比较长，不是图片说明，而是一段正文，写了很多内容，'
        "已经超过了八十个字符的图片说明长度上限，所以不能当作图片说明来处理，只能作为正文段落保留在文章里面，"
        '继续保持原来的顺序。</p><p><img src="http://nbd.com/divider.png"></p>',
        [ImageRef("http://nbd.com/divider.png")],
        id="same-url-twice-one-ref",
    ),
    pytest.param(
        f'<p>正文。</p><div class="clearfix appendQr_wrap"><img src="{SINA_QR}"></div><p><img src="{SINA_QR}"></p>',
        [],
        id="sina-qr-logo-is-not-an-image",
    ),
]


@pytest.mark.parametrize(("html", "images"), IMAGE_CASES)
def test_repair_body_images(html, images):
    result, _ = repaired(html)
    assert result.images == images


def test_seed_image_credits_leave_the_body_and_caption_stays_visible():
    _, clean = repaired(IMAGE_CASES[1].values[0])
    assert html_to_text(clean) == "底图：重庆渝中半岛，城市风貌日新月异。\n智能车间，生产线上的机器手臂有序挥舞。"
    assert "<figcaption>底图：重庆渝中半岛，城市风貌日新月异。</figcaption>" in clean


# --- repair_body: app links and stubs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "linked_urls", "item_ids"),
    [
        (
            f'<p>正文。</p><p><a href="{SEED_APP_LINK.replace("&", "&amp;")}">打开 APP 阅读全文</a></p>',
            ["https://wap.peopleapp.com/article/6821807"],
            ["62e71e708e9f0940445ab814"],
        ),
        (
            f'<p><a href="{SEED_APP_LINK.replace("&", "&amp;")}" id="copyright_info">半月谈</a></p>'
            f'<p><a href="{VOID_APP_LINK.replace("&", "&amp;")}">【纠错】</a></p>'
            f'<p><a href="{SEED_APP_LINK.replace("&", "&amp;")}">打开 APP 阅读全文</a></p>',
            ["https://wap.peopleapp.com/article/6821807", "http://www.news.cn/politics/2022-04/12"],
            ["62e71e708e9f0940445ab814", "6257f9edb15ec0435a474ca5"],
        ),
        ('<p><a href="https://www.example.com/a">普通链接</a></p>', [], []),
    ],
    ids=["open-in-app", "several-deduplicated", "ordinary-link"],
)
def test_repair_body_app_links(html, linked_urls, item_ids):
    result, clean = repaired(html)
    assert result.linked_urls == linked_urls
    assert result.app_item_ids == item_ids
    assert "myzaker.com" not in clean


@pytest.mark.parametrize(
    ("html", "is_stub"),
    [
        (
            "<p>此为临时链接，仅用于预览，将在 48 小时后失效</p><p><b>前往 央视新闻</b></p><p>点击右上角</p>"
            '<p>选择在 浏览器打开</p><div id="recommend_bottom"></div>',
            True,
        ),
        ("<p>商务部消费促进司副司长李党会 12 日表示，已累计向上海供应蔬菜 1.8 万吨。</p>", False),
        ("", False),
    ],
    ids=["preview-stub", "real-article", "empty"],
)
def test_repair_body_stub(html, is_stub):
    assert repair_body(html).is_stub is is_stub
