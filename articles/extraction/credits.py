"""Credit lines in syndicated article text: who wrote, photographed, edited or supplied it.

This module owns recognising a single paragraph (already stripped of HTML) that is *entirely*
a credit and turning it into a :class:`CreditLine`, so the importer can drop it from the body
and store it as structured data.  It knows the forms seen in the feeds we syndicate::

    （本报记者王斌来、崔佳）   （新华社记者 田晓航 宋晨）   潇湘晨报记者陈张书
    每经记者 程晓玲    每经编辑 杨欢 卢祥勇        记者  王红茹丨北京报道    （作者：林倩梅 ）
    责任编辑：刘万里 SF014    【责任编辑 : 邱丽芳】    编辑|杨欢 卢祥勇    校对|孙志成
    何 超摄    记者 何超 摄    图/何超    图片来源：摄图网
    数据来源：中共重庆市委组织部 重庆市统计局、生态环境局、林业局
    原标题：… 来源：央视新闻客户端    来源：《中国经济周刊》    来源 | 微信公众号 " 半月谈 "

Choices worth knowing:

* 校对/审核/终审 (proof-reading, sign-off) lines come back as kind ``"editor"`` with role
  ``"editor"``: they are desk staff, and the line must leave the body either way.
* Any ``图片来源：…`` is kind ``"photo"``, even when it names a statistics body (the image is a
  chart credited to it).  ``来源：厦门日报报道截图`` is kind ``"photo"`` with organizations
  ``("厦门日报",)``: a screenshot of another outlet's page.
* Plain ``来源：X`` is ``"photo"`` for stock sites, ``"data_source"`` for government and
  statistics bodies, ``"origin"`` for media outlets and anything unrecognised.
* A named outlet before 记者/编辑 (``每经``, ``潇湘晨报``) goes to ``organizations``; 本报 sets
  ``staff_of_publisher``; a news agency (新华社, 中新社) goes to ``wire`` only.
* The place-prefix carry-over for data sources only applies to government bodies
  (…局/委/厅/办/部/处/署/中心), so ``重庆市统计局、清华大学`` keeps 清华大学 as written.

Pure functions, standard library only: no Django imports.
"""

import re
from dataclasses import dataclass

ROLES = ("reporter", "photographer", "editor", "writer")


@dataclass(frozen=True)
class Person:
    name: str  # normalized: Chinese names without inner spaces (何 超 -> 何超)
    role: str  # one of ROLES


@dataclass(frozen=True)
class CreditLine:
    kind: str  # "reporters" | "photo" | "data_source" | "origin" | "editor"
    people: tuple[Person, ...] = ()
    organizations: tuple[str, ...] = ()  # data sources, or the originating publisher
    staff_of_publisher: bool = False  # 本报记者 / 本报讯: the reporters work for the original publisher
    wire: str = ""  # e.g. "新华社" for 新华社记者 / 新华社北京4月12日电


MAX_LINE = 80  # source, photo and editor lines
MAX_PEOPLE_LINE = 160  # reporter lines (every name is validated anyway) and 原标题 lines

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_SPACES = re.compile(r"[\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff]")
_BRACKETS = {"（": "）", "(": ")", "【": "】", "[": "]"}
_SENTENCE_PUNCT = re.compile(r"[。！？!?“”\"…]")
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐"
    " 夏侯 端木 申屠 澹台 轩辕 百里 呼延 南宫 西门 独孤 万俟 闻人 赫连".split()
)
# Words that follow 记者 in prose ("记者发现…") and would otherwise pass as 2-4 character names.
_NOT_NAMES = frozenset(
    "发现 获悉 了解 看到 注意 梳理 分析 采访 调查 走访 观察 表示 报道 拍摄 获得 询问 致电 查询 查阅 实地 体验 近日 日前 今天 昨天"
    " 今年 随后 一行 来到 进入 从中 在此 本人 整理 综合 制图 编辑 记者 通讯 作者 来源 图片 新闻 网友 读者 视觉 受访 资料".split()
)
_STOCK_SITES = tuple("摄图网 视觉中国 图虫创意 图虫 东方IC 全景网 千图网 包图网 站酷海洛 昵图网 壹图网 123RF Getty".split())
_WIRES = {"新华社": "新华社", "中新社": "中新社", "中国新闻社": "中新社", "中新网": "中新网"}
_STAFF = ("本报", "本刊", "本台", "本网")
_OUTLET_ALIASES = {"每经": "每日经济新闻", "一财": "第一财经"}
_OUTLET_OK = re.compile(r"(?:本报|本刊|本台|本网|每经|一财|.+(?:报|刊|社|网|台|财经|新闻|谈|视|客户端|频道))")

_MULTI_LABELS = (
    "首席记者|特约记者|见习记者|实习记者|驻站记者|记者|通讯员|实习生|作者|撰文|文字|摄影师|摄影记者|摄影|摄像"
    "|责任编辑|编辑|责编|主编|校对|审核|审校|终审|监制|统筹"
)
_SINGLE_LABELS = "文/图|文／图|图/文|图／文|文图|图文|文|图|摄"
_LABEL_RE = re.compile(
    rf"(?<![^\s、，,；;|丨:：])(?:(?P<label>{_MULTI_LABELS})\s*[：:|丨]?\s*"
    rf"|(?P<single>{_SINGLE_LABELS})(?:\s*[：:|丨/／]\s*|\s+)"
    rf"|(?P<outlet>《?[{_CJK}A-Za-z]{{1,8}}?》?)(?P<olabel>{_MULTI_LABELS})\s*[：:|丨]?\s*)"
)
_ROLE_BY_LABEL = {
    **dict.fromkeys(("通讯员", "实习生", "作者", "撰文", "文字", "文"), ("writer",)),
    **dict.fromkeys(("文/图", "文／图", "图/文", "图／文", "文图", "图文"), ("writer", "photographer")),
    **dict.fromkeys(("摄影师", "摄影记者", "摄影", "摄像", "图", "摄"), ("photographer",)),
    **dict.fromkeys(("责任编辑", "编辑", "责编", "主编", "校对", "审核", "审校", "终审", "监制", "统筹"), ("editor",)),
}
_PHOTO_SUFFIX = re.compile(r"\s*[/／]?\s*摄$")
_DATELINE = re.compile(
    rf"^(?P<agency>新华社|中新社|中国新闻社|中新网|本报)(?:(?!记者)[{_CJK}]){{0,10}}?(?:\d{{1,2}}月\d{{1,2}}日)?[电讯]\s*(?P<rest>.*)$"
)
_ORIGINAL_TITLE = re.compile(r"^原标题[：:].+?\s来源\s*[：:]\s*(?P<value>.+)$")
_SOURCE = re.compile(r"^(?P<hint>数据|资料|图片|封面图片|封面|信息|稿件|文章|本文)?\s*来源\s*[：:|丨]\s*(?P<value>.+)$")
_WECHAT_HEADER = re.compile(r"^以下文章来源于\s*(?P<value>[^，,\s]+)\s*(?:[，,]\s*作者.*)?$")
_PHOTO_PREFIX = re.compile(r"^(?:图片|图|摄影|摄)\s*[：:/／|丨]\s*(?P<value>.+)$")
_ITEM_SPLIT = re.compile(r"[\s、，,；;]+")
_STATS_BODY = re.compile(r"统计|年鉴|公报|普查")
_MEDIA = re.compile(r"(?:报|刊|社|网|台|客户端|APP|公众号|频道|杂志|新闻|融媒体中心|新闻中心)$", re.IGNORECASE)
_GOV_BODY = re.compile(r"(?:局|部|委|委员会|厅|办|办公室|院|中心|政府|署|处|所)$")
_GOV_PREFIXABLE = re.compile(r"(?:局|委|委员会|厅|办|办公室|部|处|署|中心)$")
_PLACE = re.compile(rf"[{_CJK}]{{2,7}}?(?:自治区|特别行政区|省|市|县|区|州|盟|旗)")
_NATIONAL = ("国家", "国务院", "中共", "中国", "全国", "中央")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def is_person_name(s: str) -> bool:
    """2-4 CJK characters (5 with a compound surname), a 名·姓 minority name, or a Latin name."""
    if re.fullmatch(r"[A-Z][A-Za-z'\-]*\.?(?: [A-Z][A-Za-z'\-]*\.?){0,3}", s):
        return len(s) >= 2
    if re.fullmatch(rf"[{_CJK}]{{1,8}}(?:[·•・][{_CJK}]{{1,8}}){{1,2}}", s):
        return True
    if not re.fullmatch(rf"[{_CJK}]{{2,5}}", s) or s[:2] in _NOT_NAMES:
        return False
    return len(s) <= 4 or s[:2] in _COMPOUND_SURNAMES


def _merge_singles(tokens: list[str]) -> list[str]:
    """Join typeset-padded names: 何 超 -> 何超; a longer run of single characters is paired up."""
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if re.fullmatch(rf"[{_CJK}]", tok) and tok not in "和及与":
            run.append(tok)
            continue
        if run:
            size = len(run) if len(run) <= 3 else 2
            out.extend("".join(run[i : i + size]) for i in range(0, len(run), size))
            run = []
        if tok:
            out.append(tok)
    return out


def split_names(text: str) -> list[str]:
    """Split a run of names on 、，, / spaces and on 和/及/与 between names; normalize each one."""
    names: list[str] = []
    for chunk in re.split(r"[、，,；;/／|丨]+", _norm(text)):
        tokens = re.findall(r"[A-Za-z][A-Za-z.'\-]*(?: [A-Za-z][A-Za-z.'\-]*)*|\S+", chunk)
        for tok in _merge_singles(tokens):
            if tok in ("和", "及", "与", "以及"):
                continue
            parts = re.split(r"以及|[和及与]", tok)
            if not is_person_name(tok) and len(parts) > 1 and all(is_person_name(p) for p in parts):
                names.extend(parts)
            else:
                names.append(tok)
    return names


def _strip_brackets(line: str) -> str:
    line = re.sub(r"^【纠错】\s*", "", line)
    while len(line) > 2 and _BRACKETS.get(line[0]) == line[-1] and line[-1] not in line[1:-1]:
        line = line[1:-1].strip()
    return line


def _clean_org(value: str) -> str:
    value = re.sub(r"^(?:微信公众号|公众号|微信|微博)\s*", "", value.strip())
    return re.sub(r"[《》〈〉\"“”「」'‘’]", "", value).strip()


def _orgs(value: str) -> list[str]:
    value = _clean_org(value)
    items = [_clean_org(i) for i in _ITEM_SPLIT.split(value) if i]
    return [i for i in items if i and not re.search(r"(?:整理|制图|绘制|计算)$", i)]


def _is_stock(value: str) -> bool:
    return any(value.startswith(site) for site in _STOCK_SITES)


def _leading_place(item: str) -> str:
    match = _PLACE.match(item.removeprefix("中共"))
    return match.group(0) if match else ""


def carry_place_prefix(items: list[str]) -> list[str]:
    """重庆市统计局、生态环境局 -> 重庆市统计局、重庆市生态环境局 (government bodies only)."""
    out, prefix = [], ""
    for item in items:
        place = _leading_place(item)
        if place:
            prefix = place
        elif prefix and not item.startswith(_NATIONAL) and _GOV_PREFIXABLE.search(item):
            item = prefix + item
        out.append(item)
    return out


def _source_line(hint: str, value: str) -> CreditLine | None:
    screenshot = re.search(r"(?:报道)?截图$", value.strip())
    items = _orgs(re.sub(r"(?:报道)?截图$", "", value.strip()))
    if not items:
        return None
    if screenshot or hint in ("图片", "封面图片", "封面") or all(_is_stock(i) for i in items):
        return CreditLine("photo", organizations=tuple(items))
    if hint in ("数据", "资料") or all(_STATS_BODY.search(i) or (_GOV_BODY.search(i) and not _MEDIA.search(i)) for i in items):
        return CreditLine("data_source", organizations=tuple(carry_place_prefix(items)))
    return CreditLine("origin", organizations=tuple(items))


def _people_line(line: str) -> CreditLine | None:
    if _SENTENCE_PUNCT.search(line):
        return None
    line = re.sub(rf"(?:\s*[|丨]\s*|\s+)(?:(?!丨)[{_CJK}]){{2,8}}报道$", "", line)  # 王红茹丨北京报道 (丨 is U+4E28, a CJK char)
    line = re.sub(r"(?<![A-Za-z])[A-Z]{1,4}\d{2,6}$", "", line).strip()  # Sina editor work code: 刘万里 SF014
    photo = bool(_PHOTO_SUFFIX.search(line))
    if photo:
        line = _PHOTO_SUFFIX.sub("", line)
    matches = list(_LABEL_RE.finditer(line))
    if not matches or matches[0].start() != 0:
        if not photo or matches:
            return None
        segments = [("", "", line)]
    else:
        segments = []
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            label = m.group("label") or m.group("single") or m.group("olabel")
            segments.append((label, m.group("outlet") or "", line[m.end() : end]))
    people: list[Person] = []
    orgs: list[str] = []
    staff, wire = False, ""
    for label, outlet, names_text in segments:
        outlet = outlet.strip("《》")
        if outlet and not _OUTLET_OK.fullmatch(outlet):
            return None
        if outlet.startswith(_STAFF):
            staff = True
        elif outlet in _WIRES:
            wire = _WIRES[outlet]
        elif outlet:
            org = _OUTLET_ALIASES.get(outlet, outlet)
            orgs += [] if org in orgs else [org]
        names = split_names(names_text)
        if not names or not all(is_person_name(n) for n in names):
            return None
        roles = ("photographer",) if photo else _ROLE_BY_LABEL.get(label, ("reporter",))
        people += [Person(n, role) for n in names for role in roles]
    kinds = {p.role for p in people}
    kind = "editor" if kinds == {"editor"} else "photo" if kinds == {"photographer"} else "reporters"
    return CreditLine(kind, tuple(people), tuple(orgs), staff, wire)


def parse_credit_line(text: str) -> CreditLine | None:
    """Return the credit carried by this paragraph, or None unless the whole paragraph is a credit."""
    line = _strip_brackets(_norm(text or ""))
    if not line or len(line) > MAX_PEOPLE_LINE:
        return None
    if m := _ORIGINAL_TITLE.match(line):
        items = _orgs(m.group("value"))
        return CreditLine("origin", organizations=tuple(items)) if items else None
    if m := _DATELINE.match(line):
        rest = _strip_brackets(m.group("rest"))
        credit = _people_line(rest) if rest else CreditLine("reporters")
        if credit is None:
            return None
        agency = m.group("agency")
        return CreditLine(
            credit.kind,
            credit.people,
            credit.organizations,
            staff_of_publisher=credit.staff_of_publisher or agency == "本报",
            wire=_WIRES.get(agency, credit.wire),
        )
    if len(line) > MAX_LINE:
        return _people_line(line)
    if m := _SOURCE.match(line):
        return _source_line(m.group("hint") or "", m.group("value"))
    if m := _WECHAT_HEADER.match(line):
        return CreditLine("origin", organizations=(_clean_org(m.group("value")),))
    if _is_stock(line) and len(line) <= 12:
        return CreditLine("photo", organizations=(line,))
    if (m := _PHOTO_PREFIX.match(line)) and _is_stock(_clean_org(m.group("value"))):
        return CreditLine("photo", organizations=tuple(_orgs(m.group("value"))))
    return _people_line(line)
