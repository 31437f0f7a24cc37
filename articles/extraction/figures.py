"""Statistics figures in article text: every number an analyst would file, typed and placed.

``extract_figures(text, published_at=..., regions=..., data_sources=...)`` returns one
:class:`Candidate` per figure, in text order. Pure: standard library plus cn2an (Chinese
numerals such as 三千四百万, imported on first use); no Django, no I/O; never raises.

What a candidate holds
----------------------
* ``quote`` with ``start``/``end``: the clause the number sits in (between ，。；：！？ and line
  breaks, at most 100 characters either side of the number), an exact slice of ``text``;
  ``value_text`` with ``number_start``/``number_end``: the number as written (``7.4 万亿元``,
  ``4700 余个``, ``63.2%提高到72.7%``).
* ``value`` (Decimal) with the magnitude applied (万 1e4, 亿 1e8, 万亿 1e12; ``magnitude`` keeps
  it); ``value_end`` for a range (``165 米到 175 米``) or a change (``从63.2%提高到72.7%``:
  value 63.2, value_end 72.7, direction increase).
* ``unit``: one of :data:`UNITS`. Percent forms are normalised: 三成 -> 30, 五分之四 -> 80,
  三分之一 -> 33.333333, 一半 -> 50 (percent), 翻一番 -> an increase of 100 percent.
* ``direction``: ``increase``/``decrease`` when the number is a change of one thing over time
  (增长, 提升, 增速, 比上年提高, 比2019年同期高, 下降, 缩小...); ``level`` for totals, shares,
  rates, flows (新增订单 420 亿元) and gaps between two different things (高于全国 1.2 个百分点).
  ``提高到 X`` alone is a level.
* ``approximate`` for 余/多/约/近/接近/超/超过/突破/逾/不到/左右/以上/以下/以内.
* ``period``: ``2021``, ``2021Q1``, ``2022H1``, ``2021-07``, ``2021-01/2021-07`` (1—7月),
  ``2012/2021`` (spans), ``2022-04-11`` (截至 a day), ``2021/2025`` (十四五); from the clause,
  then the sentence, then the paragraph, then the article's lead, then the article's year.
* ``region``: the key (slug) of a known region the sentence is about (成渝地区双城经济圈 wins
  over 重庆 inside it; a comparand such as 比全国 or 高于上海 does not count), or an unlisted
  county/district as written (中宁县), else the article's main region.
* ``indicator``: the noun phrase measured (地区生产总值, 不良率, 水质优良比例), best effort.
* ``source``: a data source named in the sentence, or the article's only data source.

Not figures: dates and years, clock times, phone numbers, ordinals and ranks (第二, 前三名,
list numbers), numbers inside quotes and names (“十四五”, 5G, 3号线, 年产3GW), small counts
written in Chinese (五个问题, 两个开发区: statistics are written in digits), counts that only
name a set (岛外4个区, 38个行业大类中, 山区26县), thresholds, bounds and brackets (超1万亿元的省份,
20万元以下的村, 都高于14%, 超过 7% 时, 20-60万元群体) and durations attached to a noun (24 小时热线).

Tools. cn2an converts Chinese numerals (三千四百万, 一万二, 零点五; it rejects 十四五 and 一两百,
which is what we want); it is imported on first use (about 0.17 s). jionlp was measured and not
used: ``parse_money`` reads only money (not 吨, 亩, 颗), ``parse_time`` reads 1-7月 as 7 January
and does not know 十四五, ``parse_location`` reads 成渝地区双城经济圈 as 哈尔滨市双城区, and it pulls
in numpy. jieba's place tags missed 璧山区 and 利通区 and take 1.7 s to load: unlisted places come
from a small suffix rule instead. Rules look back a bounded number of characters from each number,
so a text without punctuation stays linear. Accuracy is measured on tests/data/figures_gold.json
(``python -m bench.figures``).
"""

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal, InvalidOperation
from functools import cache, lru_cache

from articles.extraction.regions import build_matcher

# The canonical units. Anything an extractor or an editor stores in StatisticFigure.unit is one of these.
UNITS = {
    "percent": "百分比（%）",
    "percentage_point": "百分点",
    "permille": "千分比（‰）",
    "yuan": "人民币元",
    "usd": "美元",
    "eur": "欧元",
    "hkd": "港元",
    "jpy": "日元",
    "gbp": "英镑",
    "person": "人（人、名、位，以及以“个”计的人物）",
    "person_time": "人次",
    "household": "户",
    "unit": "个数（个、套、项、家、条、座、台、颗、件、所、次…）",
    "mu": "亩",
    "hectare": "公顷",
    "square_km": "平方公里",
    "square_m": "平方米",
    "km": "公里",
    "m": "米",
    "ton": "吨",
    "kg": "千克",
    "jin": "斤",
    "teu": "标准箱",
    "second": "秒",
    "year": "年（期限，如土地出让年限；年份本身不是数字）",
    "minute": "分钟",
    "hour": "小时",
    "day": "天",
    "multiple": "倍",
    "ratio": "比值（倍差、11∶1、电能利用效率等无量纲数）",
    "yuan_per_square_km": "元/平方公里（经济密度）",
    "person_per_square_km": "人/平方公里（人口密度）",
    "yuan_per_mu": "元/亩",
    "person_per_mu": "人/亩",
}
DIRECTIONS = ("increase", "decrease", "level")


@dataclass(frozen=True)
class Candidate:
    quote: str
    start: int
    end: int
    value_text: str
    number_start: int
    number_end: int
    value: Decimal
    value_end: Decimal | None
    unit: str
    magnitude: Decimal
    indicator: str
    direction: str
    approximate: bool
    period: str
    region: str
    source: str


@dataclass(frozen=True)
class RegionRef:
    """A region the extractor can recognise: ``key`` is what lands in Candidate.region (a slug)."""

    key: str
    names: tuple[str, ...]
    kind: str = ""


# --------------------------------------------------------------------------------------------
# Vocabulary

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_FULLWIDTH = str.maketrans("０１２３４５６７８９％．～∶", "0123456789%.~:")
_FULLWIDTH_RE = re.compile("[０-９％．～∶]")  # the characters _FULLWIDTH changes: most texts have none
_MAGNITUDES = {
    "万亿": Decimal(10) ** 12, "千亿": Decimal(10) ** 11, "百亿": Decimal(10) ** 10, "十亿": Decimal(10) ** 9,
    "亿": Decimal(10) ** 8, "千万": Decimal(10) ** 7, "百万": Decimal(10) ** 6, "十万": Decimal(10) ** 5,
    "万": Decimal(10) ** 4,
}
_UNIT_WORDS = [
    ("个百分点", "percentage_point"), ("百分点", "percentage_point"), ("%", "percent"), ("‰", "permille"),
    ("元人民币", "yuan"), ("元钱", "yuan"), ("美元", "usd"), ("欧元", "eur"), ("港元", "hkd"), ("港币", "hkd"),
    ("日元", "jpy"), ("英镑", "gbp"), ("元", "yuan"),
    ("人次", "person_time"), ("人", "person"), ("名", "person"), ("位", "person"), ("户", "household"),
    ("平方公里", "square_km"), ("平方千米", "square_km"), ("平方米", "square_m"), ("平米", "square_m"),
    ("公顷", "hectare"), ("亩", "mu"), ("公里", "km"), ("千米", "km"), ("米", "m"),
    ("吨", "ton"), ("千克", "kg"), ("公斤", "kg"), ("斤", "jin"), ("标箱", "teu"), ("标准箱", "teu"),
    ("秒钟", "second"), ("秒", "second"), ("分钟", "minute"), ("小时", "hour"), ("天", "day"),
    ("倍", "multiple"),
]
_COUNTERS = "个套项家条座台颗件所宗处只辆艘架栋幢间张部款株棵头场批例份块枚根支本篇次"
_UNIT_RE = re.compile(
    "|".join(re.escape(w) for w, _ in sorted(_UNIT_WORDS, key=lambda x: -len(x[0]))) + f"|[{_COUNTERS}]"
)
_UNIT_OF = dict(_UNIT_WORDS)
_PERSON_NOUNS = re.compile(r"(?:典型)?(?:人物|人才|科学家|专家|院士|学者|干部|党员|代表|运动员|志愿者|企业家)")
_PEOPLE_AFTER = re.compile(
    r"(?:巴渝|[\u4e00-\u9fff]{0,2})?(?:儿女|人口|居民|人民|群众|市民|农民|游客|职工|劳动力|常住人口|户籍人口)"
)
_PEOPLE_BEFORE = re.compile(r"人口|人数|居民|游客|职工|就业|劳动力")
_DURATION_UNITS = {"second", "minute", "hour", "day"}
_AREA_PER = {"亩": "mu", "平方公里": "square_km", "平方千米": "square_km"}
_APPROX_BEFORE = re.compile(r"(?:大约|约|将近|接近|近|超过|超出|超|突破|逾|不到|不足|上)\s*$")
_APPROX_AFTER = re.compile(r"^\s*(?:左右|以上|以下|以内|上下|许|开外)")
_BEFORE_SIGN = set(" \t\u3000\n（(：:，,；;=为是达")
_NUM_AR = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_NUMBER = re.compile(rf"(?P<ar>{_NUM_AR})|(?P<cn>[零〇一二两三四五六七八九十][{_CN_DIGITS}]*(?:点[零〇一二三四五六七八九]+)?)")
_TAIL = re.compile(
    r"(?P<a1>[ \t]*(?:余|多|来))?(?P<mag>[ \t]*(?:万亿|千亿|百亿|十亿|亿|千万|百万|十万|万))?(?P<a2>[ \t]*(?:余|多))?"
)

# How far back (in characters) the rules look from a number: real sentences are far shorter, and the
# bound keeps a text without punctuation linear.
_BACK = 80
_SENTENCE_BACK = 400
_PARAGRAPH_BACK = 1500
_QUOTE_AROUND = 100  # a quote is the clause, cut to this many characters either side of the number

# Spans that hold no figure at all.
_MASKS = [
    re.compile(r"(?<![\d.])(?:[01]?\d|2[0-3])[:：][0-5]\d(?:\s*[-—–~至到]\s*(?:[01]?\d|2[0-3])[:：][0-5]\d)?(?![\d.])"),
    re.compile(r"(?<![\d-])(?:0\d{2,3}[-—]?\d{7,8}|1[3-9]\d{9}|400[-—]?\d{3}[-—]?\d{4})(?!\d)"),
    re.compile(r"https?://\S+|www\.\S+|[A-Za-z_][A-Za-z0-9_./@-]*\d[A-Za-z0-9_./@-]*"),
]
_DATE_AFTER = re.compile(r"^\s*(?:年|月|日|号|时|点钟|季度|世纪|岁|周岁|届|期|楼|轮|代|级|版|大[^\s\d]|强|批次|次会议|周年)")
_DATE_RANGE_AFTER = re.compile(r"^\s*[-—–~至到]\s*\d+\s*(?:年|月|日|号)")
# (kind, pattern, a string every match holds: a text without it is not searched)
_SPECIALS = [
    ("percent_of", "百分之", re.compile(rf"(?<!\d)百分之(?P<n>{_NUM_AR}|[{_CN_DIGITS}]+(?:点[零〇一二三四五六七八九]+)?)")),
    ("fraction", "分之", re.compile(
        r"(?<![\d零〇一二两三四五六七八九十百])(?P<d>\d+|[零〇一二两三四五六七八九十百]+)分之(?P<n>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+)"
    )),
    ("tenths", "成", re.compile(
        r"(?<![\d零〇一二两三四五六七八九十百千])(?P<n>[1-9]|10|[一二两三四五六七八九十])成"
        r"(?=$|[^\u4e00-\u9fff]|以上|左右|多|的|以|之|还)"
    )),
    ("half", "一半", re.compile(r"一半(?=以上|左右|多|的|[，,。；;、]|$)")),
    ("doubling", "番", re.compile(r"翻(?P<n>[一两二三四1-4])番")),
    ("ratio", ":", re.compile(r"(?<![\d.:])(?P<a>\d+(?:\.\d+)?)[ \t]*:[ \t]*(?P<b>\d+(?:\.\d+)?)(?![\d.]|\s*:)")),
]

# Direction cues, searched backwards from the number inside its clause: the nearest one wins.
_TIME_COMPARAND = r"(?:上年|去年|前年|上月|上季度|同期|上年同期|去年同期|\d{4}\s*年(?:同期)?|此前|以往)"
_CUES = re.compile(
    r"(?P<to>(?:提高|提升|增长|增加|上升|扩大|升|增|下降|减少|降低|缩小|缩减|降|回落)(?:了)?(?:到|至))"
    r"|(?P<static>(?:比(?!重|例|率|值|较|如|赛|分|拼|肩|对)|较)[^，,。；;：:]{1,14}?(?:高|低|多|少)(?!于|速|效|端|质|层|新|度|价|峰|位|温)"
    r"|高于|低于|高出|低出|多于|少于|超出|相差|差距|差值)"
    r"|(?P<level>新增|增加值|增长点|增长极|增长(?=贡献|的贡献)|贡献)"
    r"|(?P<inc>增长|增加|提高|提升|上升|上涨|增速|增幅|涨幅|扩大|扩面|拉升|回升|增量|翻番|增收|多了)"
    r"|(?P<dec>下降|减少|降低|缩小|缩短|缩减|回落|下滑|降幅|锐减|下跌|萎缩|减)"
)
_AFTER_CUE = re.compile(r"^\s*的[^，,。；;：:]{0,6}?(?:(?P<inc>增速|增幅|增长|拉升|提升|提高|涨幅|增量)|(?P<dec>降幅|下降|减少))")
_CHANGE_BETWEEN = re.compile(
    r"^\s*(?:(?P<inc>提高|提升|增长|增加|上升|扩大|升|增)|(?P<dec>下降|减少|降低|缩小|缩减|降|回落))(?:了)?\s*(?:到|至)\s*"
    r"(?:每平方公里|每亩)?\s*$"
)
_RANGE_BETWEEN = re.compile(r"^\s*(?:[-—–~]|至|到)\s*$")
_FROM_BEFORE = re.compile(
    r"[从由]\s*(?:[^，,。；;\d]{0,8}?的|(?:去年|上年|前年)(?:同期)?|(?:19|20)\d{2}\s*年(?:底|末|同期)?的?)?\s*(?:每平方公里|每亩)?\s*$"
)

# Sets named by a count: 岛外4个区, 27个省份, 山区26县. Kept when a verb makes the count an object.
_REGION_NOUN = re.compile(
    r"^[ \t]*(?:个)?[ \t]*(?:省份|省区市|省市|地级市|中心城市|城市|地市|市(?!场|值|民)|县市|县区|区县|县|区|乡镇|镇|乡|村)"
)
_COUNT_VERB = re.compile(r"(?:组织|覆盖|涉及|包括|辐射|带动|新增|建成|打造|认定|评选|确定|选出|遴选|入选|有|共)\s*$")
_SET_CONTAINER = re.compile(rf"^[{_CJK}]{{1,8}}?(?:之中|当中|中|内)(?=[，,、]|$|的|有|共|占|人|分|仅|只|已|均)")
_SET_COUNT = re.compile(r"\d+\s*个?(?:省份|省市|省|城市|地市|行业|工业行业|个行业|县|区)")
_COMPARE_BEFORE = re.compile(r"(?:超过|超|高于|低于|不到|不足|突破|多于|少于)\s*$")
_CATEGORY_AFTER = re.compile(
    r"^\s*(?:以上|以下|以内)?\s*的\s*(?:\d+\s*个)?(?:省份|城市|地市|行政村|企业|行业|项目|群体|家庭|国家|地区|乡镇"
    r"|省(?!会|级|委|政府)|市(?!场|值|民|级|委|区)|县(?!城|级|委)|区(?!域|级|委)|村(?!庄|民|级|委)|镇|乡(?!村))"
)
_THRESHOLD_AFTER = re.compile(r"^\s*(?:以上|以下|以内)\s*(?:的|、)")
_BRACKET_AFTER = re.compile(r"^\s*(?:群体|人群|家庭|档次|档|区间)")
_STANDARD_AFTER = re.compile(r"^\s*(?:时|外|之外|以外|的[^，,。；;]{0,8}?(?:标准|门槛|红线|警戒线|底线|分界线))")
_SET_BOUND_BEFORE = re.compile(r"(?:都|均|全部|皆)\s*(?:已经?)?\s*(?:超过了?|高于|低于|不到|不足)\s*$")
_BENCHMARK_AFTER = re.compile(r"^\s*的\s*(?:全国|全省|全市|全区|全球|平均)")
_RATIO_WORDS = re.compile(r"倍差|比值|系数|指数|效率|之比|比为|比例为|密度比|PUE|基尼")

# Periods.
_CN_MONTH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "十一": 11, "十二": 12}
_CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_FIVE_YEAR_PLANS = {"十二五": "2011/2015", "十三五": "2016/2020", "十四五": "2021/2025", "十五五": "2026/2030"}
_M = r"(?:1[0-2]|[1-9])"
# Every alternative of _PERIODS starts with one of these: searching a text, the pattern is tried only where one
# stands (ten times faster than trying each alternative at every character).
_PERIOD_STARTS = "1-9截到至力预今去前上下全第一二三四六七十这过近"
_PERIODS = re.compile(
    rf"(?=[{_PERIOD_STARTS}])"
    r"(?:(?P<span>(?P<y1>(?:19|20)\d{2})\s*年?\s*(?:[-—–~]|至|到)\s*(?P<y2>(?:19|20)\d{2})\s*年)"
    rf"|(?P<ymr>(?P<y3>(?:19|20)\d{{2}})\s*年\s*(?P<m1>{_M})\s*(?:[-—–~]|至|到)\s*(?P<m2>{_M})\s*月)"
    r"|(?P<yq>(?P<y4>(?:19|20)\d{2})\s*年?\s*(?:第)?(?P<q>[一二三四1-4])\s*季度)"
    r"|(?P<yh>(?P<y5>(?:19|20)\d{2})\s*年\s*(?P<h>上|下)半年)"
    rf"|(?P<asof>截至\s*(?:(?P<y6>(?:19|20)\d{{2}})\s*年)?\s*(?P<m3>{_M})\s*月\s*(?:(?P<d1>\d{{1,2}})\s*日|(?P<end>底|末)))"
    r"|(?P<yend>(?:截至|到)\s*(?P<y11>(?:19|20)\d{2})\s*年\s*(?:底|末))"
    rf"|(?P<ym>(?P<y7>(?:19|20)\d{{2}})\s*年\s*(?P<m4>{_M})\s*月)"
    r"|(?P<since>(?P<y8>(?:19|20)\d{2})\s*年\s*(?:以来|来))"
    rf"|(?P<relm>(?P<rel2>今年|去年)\s*(?P<m7>{_M})\s*月(?!\s*(?:[-—–~]|至|到)))"
    r"|(?P<target>(?:到|至|力争到|预计到)\s*(?P<y9>(?:19|20)\d{2})\s*年)"
    r"|(?P<year>(?P<y10>(?:19|20)\d{2})\s*年(?!\s*(?:[-—–~]|至|到)))"
    rf"|(?P<mr>(?P<m5>{_M})\s*(?:[-—–~]|至|到)\s*(?P<m6>{_M})\s*月)"
    r"|(?P<q2>(?:第)?(?P<q3>[一二三四])季度)"
    r"|(?P<h2>(?P<rel1>今年|去年|前年)?(?P<h3>上|下)半年)"
    r"|(?P<rel>今年|去年同期|上年同期|(?:上年|去年)全年|去年|前年|上年|全年)"
    r"|(?P<plan>十二五|十三五|十四五|十五五)"
    r"|(?P<decade>十年来|这十年|过去十年|近十年)"
    r"|(?P<census>第七次全国人口普查|七普|第六次全国人口普查|六普|第三次全国国土调查|第三次国土调查|三调))"
)
_CENSUS = {"七": "2020", "六": "2010", "三": "2019"}
# A period in another clause counts only in topic position: at the clause start (2021 年，… / 而在去年同期，…).
_TOPIC_PREFIX = re.compile(r"^[\s\"“]*(?:而|在|而在|于|到|到了|截至|自|从|以|据|根据|按照)?\s*$")
_COMPARAND_PERIOD = re.compile(r"(?:比|较|与|同|由|从|高于|低于|高出|剔除|相对于)\s*$")
_CONTINUATION = re.compile(r"^[\s\"“]*(?:其中|同时|此外|另外|与此同时|而|但|其次|再看|再来看|尤其是|特别是)")

_SENT_END = "。！？!?；;\n"
_CLAUSE_END = _SENT_END + "，：:"
_OPEN_QUOTES = {"“": "”", "《": "》", "「": "」", "『": "』", "〈": "〉"}
_OPEN_QUOTE_RE = re.compile("[" + re.escape("".join(_OPEN_QUOTES)) + "]")


@cache
def _boundary_marks(ends: str):
    """The characters ``_Text._boundaries(ends)`` considers: ``ends``, commas and dashes."""
    return re.compile("[" + re.escape(ends + ",—") + "]")
_STOP_PLACE_START = set("全该本各城山库园示开新高先自港社小景片辖市郊地都进的在了和与及从到对为是将个等内外岛其这那每省名说占超过载分")  # noqa: E501
_PLACE_BOUNDARY = set("在于的、和与及从到对中是为将至由向名：:，,。；;（(“\"《 \n\t\u3000")
_STOP_PLACE = re.compile(
    r"(?:开发区|新区|示范区|先行区|自贸区|集聚区|港区|城区|山区|库区|园区|社区|小区|景区|片区|辖区|市区|郊区|地区|都市区|"
    r"主城区|高新区|试验区|功能区|保护区|风景区|服务区|展区|街区|校区|厂区|矿区|林区|灾区|牧区|老区|特区|湾区|经济区|"
    r"核心区|中心区|类区|设区市|县级市|地级市|副省级市|省会市|"
    r"城市|都市|超市|门市|股市|楼市|车市|县城|该县|全县|各县)$"
)
_UNKNOWN_PLACE = re.compile(rf"(?=([{_CJK}]{{2,3}}(?:自治县|县|区|市|旗)))")
_COMPARAND_BEFORE = re.compile(r"(?:比|较|于|高出|低出|超过|赶超|超|次于|不含|距离|相比|对比|同|与|和)\s*$")
_LEADING = re.compile(
    r"^(?:[，,、：:\s]|据统计|据介绍|据了解|数据显示|统计数据显示|其中|同时|此外|另外|目前|如今|当前|截至|全年|今年|去年|"
    r"全市|全省|全区|全县|全国|各地|该市|该省|两地|共同|共|已|已经|还|并|也|均|都|则|而|但|却|另|再|仅|只|以|在|对|为|从|由|"
    r"累计|合计|总计|共计|新)+"
)
_TRAILING = re.compile(
    r"(?:同比|环比|分别|增长了?|增加了?|提高了?|提升了?|下降了?|减少了?|缩短了?|扩大了?|达到|高达|达|为|是|突破|超过|超|约|近|接近|"
    r"完成|实现|保持|稳定在|控制在|力争达到|力争|仅为|仅需|仅|只有|有|在|以|共|共计|累计|合计|年均|平均|的|了|已|逾|"
    r"提高到|提升到|增长到|增至|降至|缩小到|比上年|比去年|较上年|由|从|\s)+$"
)
_COMPANY_PREFIX = re.compile(r"^[\u4e00-\u9fff]{0,6}?(?:有限责任公司|股份有限公司|有限公司|集团|公司|企业)(?=[\u4e00-\u9fff])")
_COMPARISON_TAIL = re.compile(r"(?:(?<![同环])比(?!重|例|率|值)|较|高于|低于|高出|距离)[^，,]{0,12}?(?:高|低|多|少)?$")
_SUBJECT_WORDS = re.compile(r"^(?:省|市|区|县|岛内|岛外|二者|两者|这一数据|这一比例|其|的)+|(?:一季度|上半年|全年|去年同期|同期)")
_BARE_VERB_TAIL = re.compile(r"(?:获得|获|实现|完成|带动|吸引|投入|落实|取得|争取|签约|引进|获批|发放|拨付)$")
_NOUN_AFTER = re.compile(rf"[\s\"“”]*(的)?\s*([{_CJK}\"“” ]{{2,16}}?)(?=[，,。；;、：:）)和及与\d]|$)")
_NOT_A_NOUN = re.compile(
    r"(?:同比|增长|下降|增加|减少|提高|居|排名|位居|位列|以上|左右|以下|成为|占|是|为|达|高于|低于|仅次于|目前|足以)"
)
_GENERIC_INDICATORS = {"", "总量", "总值", "规模", "总额", "数量", "增速", "增幅", "两年平均", "比重", "占比", "其中", "分别"}


# --------------------------------------------------------------------------------------------
# Small helpers


def _cn2an():
    import cn2an  # noqa: PLC0415  (0.17 s import; only needed for numbers written in Chinese)

    return cn2an


def _parse_number(raw: str) -> Decimal | None:
    """Digits (1,133 / 27117.96) or a Chinese numeral (三千四百万, via cn2an); None when it is not a number.

    Runs longer than any figure (StatisticFigure.value holds 30 digits) are refused up front: cn2an
    would build an integer too long to print, and no statistic is written that way.
    """
    raw = raw.replace(",", "")
    if not raw or len(raw) > 30:
        return None
    if raw[0].isdigit():
        try:
            return Decimal(raw)
        except InvalidOperation:
            return None
    return _chinese_number(raw)


@lru_cache(maxsize=4096)  # the same few numerals come again and again (一 and 两 dozens of times in an article)
def _chinese_number(raw: str) -> Decimal | None:
    try:
        value = _cn2an().cn2an(raw, "normal")
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError):  # cn2an raises ValueError on malformed input
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _plain(d: Decimal) -> Decimal:
    """Drop exponent notation (7.4E+12 -> 7400000000000) without changing the value.

    Computed with as many digits as the value has: in the default 28-digit context quantize() raised
    InvalidOperation on a longer one (a 30-digit number of 万亿), and normalize() rounded it.
    """
    if not d.is_finite():
        return d
    _, digits, exponent = d.as_tuple()
    context = Context(prec=max(28, len(digits) + max(exponent, 0)))
    return d.quantize(Decimal(1), context=context) if d == d.to_integral_value() else d.normalize(context)


def _as_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            m = re.match(r"(\d{4})", value.strip())
            return date(int(m.group(1)), 1, 1) if m else None
    return None


def _region_refs(regions) -> list[RegionRef]:
    refs = []
    for r in regions or ():
        try:
            if isinstance(r, RegionRef):
                refs.append(r)
            elif isinstance(r, dict):
                names = (r.get("name"), r.get("short_name"), *(r.get("aliases") or ()))
                refs.append(RegionRef(str(r.get("slug") or r.get("key") or r.get("name")),
                                      tuple(n for n in names if n), r.get("kind") or ""))
            elif isinstance(r, (tuple, list)) and len(r) >= 2:
                names = (r[1],) if isinstance(r[1], str) else tuple(r[1])
                refs.append(RegionRef(str(r[0]), names, r[2] if len(r) > 2 else ""))
            elif hasattr(r, "match_names"):
                refs.append(RegionRef(str(getattr(r, "slug", "") or r), tuple(r.match_names()), getattr(r, "kind", "")))
        except (TypeError, AttributeError):
            continue
    return refs


@dataclass
class _Token:
    start: int
    end: int  # end of the number as written (unit included)
    num_end: int  # end of the digits themselves
    value: Decimal
    unit: str | None
    magnitude: Decimal
    approximate: bool
    kind: str  # "ar", "cn" or a special form
    value_end: Decimal | None = None
    direction: str | None = None
    mag_given: bool = False


class _Text:
    """Offsets of paragraphs, sentences and clauses, and the masked spans."""

    def __init__(self, text: str):
        self.text = text
        self.norm = text.translate(_FULLWIDTH) if _FULLWIDTH_RE.search(text) else text
        self.masked = bytearray(len(text))
        for rx in _MASKS:
            for m in rx.finditer(self.norm):
                self.masked[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        self.quoted = bytearray(len(text))
        self._mark_quotes()
        self._marks: dict[str, list[int]] = {}

    def _mark_quotes(self):
        text = self.norm
        for m in _OPEN_QUOTE_RE.finditer(text):
            i, close = m.start(), _OPEN_QUOTES[m.group()]
            j = text.find(close, i + 1, i + 40)
            nl = text.find("\n", i + 1, j if j >= 0 else i + 40)
            if j > 0 and nl < 0 and j - i <= 18:
                self.quoted[i : j + 1] = b"\x01" * (j + 1 - i)
        # ASCII quotes come in pairs within a paragraph (the ZAKER feeds write " 两高 ").
        for para in re.finditer(r"[^\n]+", text):
            marks = [m.start() + para.start() for m in re.finditer('"', para.group(0))]
            for a, b in zip(marks[::2], marks[1::2], strict=False):
                if b - a <= 18:
                    self.quoted[a : b + 1] = b"\x01" * (b + 1 - a)

    def _boundaries(self, ends: str) -> list[int]:
        norm = self.norm
        out = []
        for m in _boundary_marks(ends).finditer(norm):  # only the characters the rules below look at
            i, ch = m.start(), m.group()
            if ch == "—":
                if ends is _CLAUSE_END and "——" in norm[max(0, i - 1) : i + 2]:
                    out.append(i)  # a dash pair works like a colon; 1—7月 does not
                continue
            if ch not in ends and ch != ",":
                continue
            between_digits = 0 < i < len(norm) - 1 and norm[i - 1].isdigit() and norm[i + 1].isdigit()
            if ch in ",:" and between_digits:
                continue  # 1,133 and 11:1 (a ratio: clock times are masked anyway)
            if ch in ":：" and self.masked[i]:
                continue
            if ch == "," and ch not in ends and ends is not _CLAUSE_END:
                continue
            out.append(i)
        return out

    def bounds(self, pos: int, ends: str) -> tuple[int, int]:
        marks = self._marks.get(ends)
        if marks is None:
            marks = self._marks[ends] = self._boundaries(ends)
        j = bisect_left(marks, pos)
        s = marks[j - 1] + 1 if j > 0 else 0
        e = marks[j] if j < len(marks) else len(self.norm)
        return s, e

    def clause(self, pos):
        return self.bounds(pos, _CLAUSE_END)

    def sentence(self, pos):
        return self.bounds(pos, _SENT_END)

    def paragraph(self, pos):
        return self.bounds(pos, "\n")

    def stripped(self, s: int, e: int) -> tuple[int, int]:
        text = self.text
        while s < e and text[s] in " \t\u3000\"“”‘’'（(【[…—·":
            if text[s] in "（(【[" and any(c in text[s:e] for c in "）)】]"):
                break
            s += 1
        while e > s and text[e - 1] in " \t\u3000\"“”‘’'…—·":
            e -= 1
        return s, e


# --------------------------------------------------------------------------------------------
# Finding numbers


def _scan_specials(t: _Text, taken: bytearray) -> list[_Token]:
    tokens = []
    norm = t.norm
    for kind, needed, rx in _SPECIALS:
        if needed not in norm:
            continue
        for m in rx.finditer(norm):
            s, e = m.start(), m.end()
            if any(taken[s:e]) or any(t.masked[s:e]):
                continue
            tok = None
            if kind == "percent_of":
                v = _parse_number(m.group("n"))
                tok = v is not None and _Token(s, e, e, v, "percent", Decimal(1), False, kind)
            elif kind == "fraction":
                d, n = _parse_number(m.group("d")), _parse_number(m.group("n"))
                if d and n is not None and d > 0 and n <= d:
                    v = (n / d * 100).quantize(Decimal("0.000001"))
                    tok = _Token(s, e, e, v, "percent", Decimal(1), False, kind)
            elif kind == "tenths":
                v = _parse_number(m.group("n"))
                tok = v is not None and 0 < v <= 10 and _Token(s, e, e, v * 10, "percent", Decimal(1), False, kind)
            elif kind == "half":
                tok = _Token(s, e, e, Decimal(50), "percent", Decimal(1), False, kind)
            elif kind == "doubling":
                n = _parse_number(m.group("n"))
                if n is not None and 0 < n <= 4:
                    v = (2 ** int(n) - 1) * 100
                    tok = _Token(s, e, e, Decimal(v), "percent", Decimal(1), False, kind, direction="increase")
            elif kind == "ratio":
                cs, _ = t.sentence(s)
                if "比" in norm[max(cs, s - _BACK) : s] or re.match(r"\s*的?比", norm[e : e + 3]):
                    tok = _Token(s, e, e, Decimal(m.group("a")), "ratio", Decimal(1), False, kind)
                else:
                    taken[s:e] = b"\x01" * (e - s)  # a bare a:b outside a ratio context: a score or a time, skip
            if tok:
                tokens.append(tok)
                taken[s:e] = b"\x01" * (e - s)
    return tokens


def _scan_numbers(t: _Text, taken: bytearray) -> list[_Token]:
    tokens = []
    norm = t.norm
    pos = 0
    while True:
        m = _NUMBER.search(norm, pos)
        if not m:
            break
        s, e = m.start(), m.end()
        pos = e
        if any(taken[s:e]) or any(t.masked[s:e]):
            continue
        if m.group("ar") and s > 0 and (norm[s - 1].isascii() and (norm[s - 1].isalnum() or norm[s - 1] == ".")):
            continue
        value = _parse_number(m.group(0))
        if value is None:
            continue
        if m.group("ar") and s > 0 and norm[s - 1] in "-−" and (s < 2 or norm[s - 2] in _BEFORE_SIGN):
            s, value = s - 1, -value  # 人口自然增长率 -2.75 ‰ (but not 5%-6% or 1-7月)
        tail = _TAIL.match(norm, e)
        mag_word = (tail.group("mag") or "").strip()
        magnitude = _MAGNITUDES.get(mag_word, Decimal(1))
        approx = bool(tail.group("a1") or tail.group("a2"))
        cur = tail.end()
        gap = re.match(r"[ \t]*", norm[cur:]).end()
        unit_m = _UNIT_RE.match(norm, cur + gap)
        unit = None
        if unit_m:
            word = unit_m.group(0)
            unit = _UNIT_OF.get(word, "unit")
            cur = unit_m.end()
            if word in "个位名" and re.match(r"[^，,。；;、\s]{0,4}?" + _PERSON_NOUNS.pattern, norm[cur : cur + 12]):
                unit = "person"
        elif m.group("ar") and cur < len(norm) and norm[cur].isascii() and norm[cur].isalpha():
            pos = cur
            continue  # 5G, 3GW, 3C: part of a name
        tok = _Token(s, cur if unit else (tail.end() if mag_word else e), e, value * magnitude, unit, magnitude,
                     approx, "ar" if m.group("ar") else "cn", mag_given=bool(mag_word))
        tokens.append(tok)
        pos = max(pos, tok.end)
    return tokens


def _finish_unit(t: _Text, tok: _Token) -> None:
    """Per-area prefixes and suffixes (每平方公里1.3万人, 21.83亿元/平方公里, 每亩3000元), approximate words."""
    norm = t.norm
    after = norm[tok.end : tok.end + 8]
    m = re.match(r"[ \t]*/[ \t]*(平方公里|平方千米|亩)", after) if tok.kind in ("ar", "cn", "change", "range") else None
    base = tok.unit
    if m and base in ("yuan", "person"):
        tok.unit = f"{base}_per_{_AREA_PER[m.group(1)]}"
        tok.end += m.end()
    before = norm[max(0, tok.start - 8) : tok.start]
    m = re.search(r"每\s*(平方公里|平方千米|亩)\s*$", before)
    if m and base in ("yuan", "person"):
        tok.unit = f"{base}_per_{_AREA_PER[m.group(1)]}"
    elif base == "yuan" and re.search(r"亩(?:均|产值?)[^，,。；;]{0,3}$", before):
        tok.unit = "yuan_per_mu"
    if _APPROX_BEFORE.search(before):
        tok.approximate = True
    if _APPROX_AFTER.match(norm[tok.end : tok.end + 6]):
        tok.approximate = True


def _merge_pairs(t: _Text, tokens: list[_Token]) -> list[_Token]:
    """``从 X 提高到 Y`` and ``X 到 Y`` become one token with both ends."""
    norm = t.norm
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        a = tokens[i]
        b = tokens[i + 1] if i + 1 < len(tokens) else None
        pair = b is not None and a.kind in ("ar", "cn") and b.kind in ("ar", "cn")
        if pair and t.clause(a.start) == t.clause(b.start):
            between = norm[a.end : b.start]
            change = _CHANGE_BETWEEN.match(between)
            units_agree = a.unit is None or b.unit is None or a.unit == b.unit or (
                a.unit.startswith(b.unit or "") and "_per_" in a.unit
            )
            cs, _ = t.clause(a.start)
            if change and units_agree and _FROM_BEFORE.search(norm[max(cs, a.start - 30) : a.start]):
                unit = a.unit if a.unit and "_per_" in a.unit else (b.unit or a.unit)
                a_value = a.value if a.mag_given or not b.mag_given else a.value * b.magnitude
                out.append(_Token(a.start, b.end, b.num_end, a_value, unit, b.magnitude, a.approximate or b.approximate,
                                  "change", value_end=b.value, direction="increase" if change.group("inc") else "decrease"))
                i += 2
                continue
            if _RANGE_BETWEEN.match(between) and b.unit and a.unit in (None, b.unit) and not a.mag_given:
                out.append(_Token(a.start, b.end, b.num_end, a.value * b.magnitude, b.unit, b.magnitude,
                                  a.approximate or b.approximate, "range", value_end=b.value))
                i += 2
                continue
        out.append(a)
        i += 1
    return out


# --------------------------------------------------------------------------------------------
# Deciding what is a figure


def _not_a_figure(t: _Text, tok: _Token) -> bool:
    norm = t.norm
    s = tok.start
    before = norm[max(0, s - 10) : s]
    after_num = norm[tok.num_end : tok.num_end + 12]
    after = norm[tok.end : tok.end + 16]
    ps, _ = t.paragraph(s)
    cs, _ = t.clause(s)
    cs = max(cs, s - _BACK)
    if any(t.quoted[s : tok.end]):
        return True  # “十四五”, “1612”体系, 《…十条措施》
    if before.rstrip().endswith("第"):
        return True
    if tok.kind in ("ar", "cn", "range"):
        if tok.unit is None and (_DATE_AFTER.match(after_num) or _DATE_RANGE_AFTER.match(after_num)):
            return True
        if tok.kind == "range" and re.match(r"\s*(?:年|月|日)", norm[tok.end : tok.end + 3]):
            return True
        if re.search(r"(?:前|后)\s*$", before) and re.match(r"\s*(?:名|位|强)", after_num):
            return True  # 前九名, 后三名
        if s - ps <= 6 and not norm[ps:s].strip(" \t\u3000（(") and re.match(r"\s*[．.、）)]", after_num):
            return True  # list numbering: 1． / 2、 / (3)
    if tok.kind == "cn" and tok.value < 100 and tok.magnitude == 1:
        return True  # 五个问题, 两个开发区, 十条措施: statistics are written in digits
    if tok.unit is None:
        return True
    if tok.unit in _DURATION_UNITS and re.match(rf"[{_CJK}]", after) and not re.match(r"(?:左右|以上|以内|多|的)", after):
        return True  # 24 小时报料热线
    if tok.kind in ("ar", "cn") and tok.unit == "unit" and norm[tok.end - 1] == "个":
        if _REGION_NOUN.match(norm[tok.end : tok.end + 8]) and not _COUNT_VERB.search(norm[cs:s]):
            return True  # 岛外4个区, 27个省份: a set named by its size
        if _SET_CONTAINER.match(norm[tok.end : tok.end + 10]):
            return True  # 38个工业行业大类中
    if _BRACKET_AFTER.match(after) or (_THRESHOLD_AFTER.match(after) and (
        re.match(r"\s*(?:以上|以下|以内)\s*、", after) or _CATEGORY_AFTER.match(after)
    )):
        return True  # 20-60万元群体, 20 万元以下的村 (but 一半以上的人口 is a share)
    if _STANDARD_AFTER.match(after) or _SET_BOUND_BEFORE.search(before):
        return True  # 超过 7% 时; 14% 的深度老龄化标准; 其余的区都高于 14%: a bound, not a value
    if _COMPARE_BEFORE.search(before) and _CATEGORY_AFTER.match(after):
        return True  # GDP总量超1万亿元的省份
    if _COMPARE_BEFORE.search(before) and _SET_COUNT.search(norm[cs:s]) and not _BENCHMARK_AFTER.match(after):
        return True  # 8个省份GDP超过1万亿元; 32个行业增速高于20%
    return False


def _infer_unit(t: _Text, tok: _Token, prev: _Token | None) -> None:
    """Bare numbers: 倍差 1.94 (ratio); 24.9万 after 人口 (person); 比岛外少100多万 (the unit just used)."""
    if tok.unit is not None:
        return
    norm = t.norm
    cs, _ = t.clause(tok.start)
    ss, _ = t.sentence(tok.start)
    cs, ss = max(cs, tok.start - _BACK), max(ss, tok.start - _BACK)
    if tok.kind in ("ar", "cn") and _COUNT_VERB.search(norm[cs : tok.start]):
        noun = _REGION_NOUN.match(norm[tok.end : tok.end + 8])
        if noun:
            tok.unit = "unit"  # 已组织 11 省份
            tok.end += noun.end()
            return
    if tok.kind == "change" or (tok.kind == "ar" and "." in norm[tok.start : tok.num_end]):
        if _RATIO_WORDS.search(norm[ss : tok.start]) or tok.kind == "change":
            tok.unit = "ratio"
            return
    if tok.magnitude > 1 or tok.mag_given:
        if _PEOPLE_AFTER.match(norm[tok.end : tok.end + 6]) or _PEOPLE_BEFORE.search(norm[cs : tok.start]):
            tok.unit = "person"
        elif prev is not None and prev.unit in ("person", "unit", "household", "ton", "mu"):
            if t.sentence(prev.start) == t.sentence(tok.start):
                tok.unit = prev.unit  # 比岛外少100多万 (after 24.9万 people)


def _direction(t: _Text, tok: _Token, previous: str | None) -> str:
    """``previous``: the direction of the figure before, in the same sentence (for 高于江苏的19.2%)."""
    if tok.direction:
        return tok.direction
    norm = t.norm
    cs, _ = t.clause(tok.start)
    seg = norm[max(cs, tok.start - _BACK) : tok.start]
    if tok.unit == "multiple":
        return "increase" if re.search(r"(?:增长|增加|提高)了?\s*$", seg) else "level"
    cues = list(_CUES.finditer(seg))
    comparand = False
    for cue in reversed(cues):
        kind = cue.lastgroup
        if kind in ("inc", "dec") and re.fullmatch(r"\s*的\s*", seg[cue.end() :]):
            return "level"  # 人口增量的五分之四: a share of the change, not a change
        if kind == "static":
            if "的" in seg[cue.end() :]:
                comparand = True
                continue  # 高于江苏的19.2%: the number belongs to the comparand
            word = cue.group(0)
            against_time = re.match(rf"(?:高于|低于|高出|低出)\s*{_TIME_COMPARAND}", seg[cue.start() :])
            if re.search(_TIME_COMPARAND, word) or against_time:
                return "decrease" if re.search(r"低|少", word) else "increase"
            return "level"
        if kind in ("to", "level"):
            return "level"
        return "increase" if kind == "inc" else "decrease"
    m = _AFTER_CUE.match(norm[tok.end : tok.end + 14])
    if m:
        return "increase" if m.group("inc") else "decrease"
    if comparand and previous:
        return previous  # …的58.3%，高于江苏的19.2%: the comparand's value measures the same thing
    return "level"


# --------------------------------------------------------------------------------------------
# Context: periods, regions, indicators, sources


def _period_of(m: re.Match, year: int | None, context: str, pub_year: int | None = None) -> str:
    """``year`` anchors month- and quarter-only periods; 今年/去年 count from ``pub_year``."""
    g = m.groupdict()
    pub_year = pub_year or year
    if g["census"]:
        return _CENSUS[next(c for c in "七六三" if c in g["census"])]
    if g["relm"]:
        return f"{pub_year - (g['rel2'] == '去年')}-{int(g['m7']):02d}" if pub_year else ""
    if g["span"]:
        return f"{g['y1']}/{g['y2']}"
    if g["ymr"]:
        return f"{g['y3']}-{int(g['m1']):02d}/{g['y3']}-{int(g['m2']):02d}"
    if g["yq"]:
        return f"{g['y4']}Q{_CN_QUARTER[g['q']]}"
    if g["yh"]:
        return f"{g['y5']}H{1 if g['h'] == '上' else 2}"
    if g["asof"]:
        y = g["y6"] or year
        if not y:
            return ""
        return f"{y}-{int(g['m3']):02d}" if g["end"] else f"{y}-{int(g['m3']):02d}-{int(g['d1']):02d}"
    if g["yend"]:
        return g["y11"]
    if g["ym"]:
        return f"{g['y7']}-{int(g['m4']):02d}"
    if g["since"]:
        return f"{g['y8']}/{pub_year}" if pub_year and pub_year > int(g["y8"]) else g["y8"]
    if g["target"]:
        return g["y9"]
    if g["year"]:
        return g["y10"]
    if not year:
        return ""
    if g["mr"]:
        return f"{year}-{int(g['m5']):02d}/{year}-{int(g['m6']):02d}"
    if g["q2"]:
        return f"{year}Q{_CN_QUARTER[g['q3']]}"
    if g["h2"]:
        y = (pub_year if g["rel1"] else year) - {"去年": 1, "前年": 2}.get(g["rel1"] or "", 0)
        return f"{y}H{1 if g['h3'] == '上' else 2}"
    if g["rel"]:
        rel = g["rel"]
        if rel in ("去年同期", "上年同期"):
            sub = re.search(r"Q\d|H\d|-\d\d/\d{4}-\d\d", context)
            return f"{pub_year - 1}{sub.group(0) if sub and sub.group(0)[0] in 'QH' else ''}"
        if rel == "全年":
            return str(year)
        return str(pub_year - {"去年": 1, "上年": 1, "去年全年": 1, "上年全年": 1, "前年": 2}.get(rel, 0))
    if g["plan"]:
        return _FIVE_YEAR_PLANS[g["plan"]]
    if g["decade"]:
        return f"{pub_year - 10}/{pub_year}"
    return ""


def _region_names(refs) -> tuple[dict[str, str], dict[str, str]]:
    """``({name: key}, {key: kind})`` of region refs, the first ref naming a name taking it (中国 is also 全国)."""
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for ref in refs:
        kinds.setdefault(ref.key, ref.kind)
        for n in ref.names:
            if n and len(n) >= 2:
                names.setdefault(n, ref.key)
                if n == "中国":
                    names.setdefault("全国", ref.key)
    return names, kinds


@dataclass(frozen=True)
class KnownRegions:
    """Regions to recognise, read once for many texts (``prepare_regions()``): ``{name: key}``, ``{key: kind}`` and
    the matcher of the names."""

    names: dict
    kinds: dict
    matcher: object


def prepare_regions(regions) -> KnownRegions:
    """``regions`` (as ``extract_figures`` takes them) read once, to pass as ``known_regions`` for many texts."""
    names, kinds = _region_names(_region_refs(regions))
    return KnownRegions(names, kinds, build_matcher(names))


class _Context:
    def __init__(self, t: _Text, published: date | None, regions, known_regions, data_sources):
        self.t = t
        self.pub_year = published.year if published else None
        refs = _region_refs(regions)
        known = known_regions if isinstance(known_regions, KnownRegions) else prepare_regions(known_regions)
        names, kinds = _region_names(refs)
        for name, key in known.names.items():
            names.setdefault(name, key)
        for key, kind in known.kinds.items():
            kinds.setdefault(key, kind)
        self.region_names = names
        # The article's regions are nearly always known ones too: then the known regions' matcher is this one.
        self.matcher = known.matcher if names.keys() == known.names.keys() else build_matcher(names)
        self.country = names.get("全国", "")
        self.whole = {}
        # 全省/全区 -> the article's province, 全市 -> its city (or a 市 province: 重庆市); only when there is one.
        provinces = [r for r in refs if r.kind == "province"]
        cities = [r for r in refs if r.kind == "city"]
        cities = cities or [r for r in provinces if any(n.endswith("市") for n in r.names)]
        if len(provinces) == 1:
            self.whole["全省"] = self.whole["全区"] = provinces[0].key
        if len(cities) == 1:
            self.whole["全市"] = cities[0].key
        self.mentions = self._find_mentions()
        counts = Counter(key for _, _, key in self.mentions if any(r.key == key for r in refs))
        ordered = [r.key for r in refs if kinds.get(r.key) != "country"]
        self.main_region = max(ordered, key=lambda k: (counts[k], -ordered.index(k))) if ordered else ""
        self.sources = [s for s in (data_sources or ()) if isinstance(s, str) and s]
        self.lead_period = self._lead_period()
        # Years named in the text, in order (not 比2019年同期, not inside quoted names): 一季度 and 1—7月 take the latest.
        self._year_marks: list[int] = []
        self._years: list[int] = []
        norm = t.norm
        for m in re.finditer(r"((?:19|20)\d{2})\s*年(?!\s*(?:[-—–~]|至|到|以来|来))", norm):
            if not t.quoted[m.start()] and not _COMPARAND_PERIOD.search(norm[max(0, m.start() - 4) : m.start()]):
                self._year_marks.append(m.start())
                self._years.append(int(m.group(1)))
        self._mention_starts = [m[0] for m in self.mentions]
        self._period_matches = list(_PERIODS.finditer(norm))
        names = {norm[m[0] : m[1]] for m in self.mentions} | set(self.region_names)
        self._place_names = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
        self._period_starts = [m.start() for m in self._period_matches]
        self._carried: dict[int, str] = {}
        self._carried_region: dict[int, str] = {}
        self.last_region: dict[int, str] = {}
        self.aligned_regions: dict[int, str] = {}
        self.aligned_periods: dict[int, str] = {}

    def _find_mentions(self) -> list[tuple[int, int, str]]:
        norm = self.t.norm
        found: list[tuple[int, int, str]] = []
        taken = bytearray(len(norm))
        if self.matcher is not None:
            for m in self.matcher.finditer(norm):
                found.append((m.start(), m.end(), self.region_names[m.group(0)]))
                taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        # Unlisted counties and districts (中宁县, 璧山区): a 2-3 character stem that starts after a
        # boundary (punctuation, 在/的/、/其中…), longest first; never 全市/该县/两县 or generic areas.
        seen_end = -1
        for m in _UNKNOWN_PLACE.finditer(norm):
            name = m.group(1)
            s0, e0 = m.start(), m.start() + len(name)
            if e0 <= seen_end or any(taken[s0:e0]):
                continue
            suffix_len = 3 if name.endswith("自治县") else 1
            if name[-suffix_len - 1] in "全该本各这两每此":
                continue
            if not (s0 == 0 or norm[s0 - 1] in _PLACE_BOUNDARY or not re.match(rf"[{_CJK}]", norm[s0 - 1])):
                continue
            if name[0] in _STOP_PLACE_START or _STOP_PLACE.search(name):
                continue
            found.append((s0, e0, name))
            seen_end = e0
        return sorted(found)

    def _lead_period(self) -> str:
        norm = self.t.norm
        end = norm.find("\n")
        first = norm[: end if end >= 0 else len(norm)][:200]
        for m in _PERIODS.finditer(first):
            if m.group("asof") or m.group("rel") == "今年":
                continue
            p = _period_of(m, self.pub_year, "", self.pub_year)
            if p and not re.fullmatch(r"\d{4}", p):
                return p
        return ""

    def _periods_in(self, lo: int, hi: int, topic_only: bool, year: int | None):
        """(period, comparand?, match) for each period expression inside norm[lo:hi], skipping quoted names."""
        t = self.t
        out = []
        first = bisect_left(self._period_starts, lo)
        for m in self._period_matches[first : bisect_left(self._period_starts, hi)]:
            a, z = m.start(), m.end()
            if z > hi:
                continue
            if any(t.quoted[a:z]) and not (
                m.group("plan") and re.match(r"[\s\"”]*(?:期间|时期|以来|末)", t.norm[z : z + 5])
            ):
                continue  # “十四五”国控断面, 《…（2020-2035年）》; but " 十三五 " 期间 is a period
            comparand = bool(_COMPARAND_PERIOD.search(t.norm[max(0, a - 4) : a])) or bool(
                re.match(r"\s*(?:的|同期)?\s*(?:相比|比较|对比)", t.norm[z : z + 5])
            )
            if topic_only and not comparand and not m.group("census"):
                cs, _ = t.clause(a)
                if not _TOPIC_PREFIX.match(t.norm[cs:a]):
                    continue
            p = _period_of(m, year, self.lead_period, self.pub_year)
            if p:
                out.append((p, comparand, m))
        return out

    def period(self, tok: _Token, direction: str = "level") -> str:
        if tok.start in self.aligned_periods:
            return self.aligned_periods[tok.start]
        t = self.t
        cs, ce = t.clause(tok.start)
        ss, _ = t.sentence(tok.start)
        ps, _ = t.paragraph(tok.start)
        j = bisect_left(self._year_marks, tok.start)
        year = self._years[j - 1] if j else self.pub_year  # anchors 一季度, 1—7月, 全年 …
        cs, ce = max(cs, tok.start - _BACK), min(ce, tok.end + 40)
        ss, ps = max(ss, cs - _SENTENCE_BACK), max(ps, ss - _PARAGRAPH_BACK)
        found, inherited, base, plan = "", False, None, False
        own = self._periods_in(cs, tok.start, False, year) + self._periods_in(tok.end, ce, False, year)
        for p, comparand, m in own:
            if comparand:
                base = base or (m.group("y3") or m.group("y7") or m.group("y10") or m.group("y4"))
            else:
                found = p
        if not found:
            inherited = True
            before = [x for x in self._periods_in(ss, cs, True, year) if not x[1]]
            se = min(t.sentence(tok.start)[1], ce + _SENTENCE_BACK)
            after = [x for x in self._periods_in(ce, se, True, year) if not x[1]]
            paragraph = [x for x in self._periods_in(ps, ss, True, year) if not x[1] and not x[2].group("target")]
            for group in (before, paragraph, after):
                if group:
                    chosen = group[-1] if group is not after else group[0]
                    found, plan = chosen[0], bool(chosen[2].group("plan"))
                    break
        if not found:
            found = self._carried.get(ps) or self.lead_period or (str(self.pub_year) if self.pub_year else "")
        else:
            self._carried[ps] = found
        if inherited and not plan and direction == "level" and re.fullmatch(r"\d{4}/\d{4}", found):
            found = found[-4:]  # a level inside a span narrative (十年来…突破7万亿元) is as of the span's end
        if base and direction != "level" and re.fullmatch(r"\d{4}(?:/\d{4})?", found) and int(found[-4:]) > int(base):
            found = f"{base}/{found[-4:]}"
        return found

    def carry_from(self, previous_paragraph_start: int, paragraph_start: int) -> None:
        """A paragraph opening with 其中/同时/此外… continues the previous one's period."""
        if not _CONTINUATION.match(self.t.norm[paragraph_start : paragraph_start + 6]):
            return
        if previous_paragraph_start in self._carried:
            self._carried.setdefault(paragraph_start, self._carried[previous_paragraph_start])
        last_region = self.last_region.get(previous_paragraph_start)
        if last_region:
            self._carried_region.setdefault(paragraph_start, last_region)

    def align(self, group: list[_Token]) -> None:
        """分别: the i-th number of 思明区、湖里区…分别有92.99万人、93.12万人 belongs to the i-th place (or period)."""
        t = self.t
        norm = t.norm
        k = len(group)
        cs, _ = t.clause(group[0].start)
        ss, _ = t.sentence(group[0].start)
        ss = max(ss, cs - _SENTENCE_BACK)
        places = [m for m in self._mentions_between(ss, cs) if m[1] <= cs and norm[m[0] : m[1]] != "全国"]
        if len(places) >= k and len({m[2] for m in places[-k:]}) == k:
            for tok, m in zip(group, places[-k:], strict=True):
                self.aligned_regions[tok.start] = m[2]
        enum = re.search(r"((?:19|20)\d{2})\s*年(?:\s*[、和及与]\s*((?:19|20)\d{2})\s*年)+", norm[ss:cs])
        if enum:
            years = re.findall(r"(?:19|20)\d{2}", enum.group(0))
            if len(years) == k:
                for tok, y in zip(group, years, strict=True):
                    self.aligned_periods[tok.start] = y

    def _mentions_between(self, lo: int, hi: int) -> list[tuple[int, int, str]]:
        return self.mentions[bisect_left(self._mention_starts, lo) : bisect_left(self._mention_starts, hi)]

    def region(self, tok: _Token) -> str:
        t = self.t
        norm = t.norm
        cs, ce = t.clause(tok.start)
        ss, se = t.sentence(tok.start)
        ps, _ = t.paragraph(tok.start)
        cs, ss = max(cs, tok.start - _BACK), max(ss, tok.start - _SENTENCE_BACK)
        se, ps = min(se, tok.end + _SENTENCE_BACK), max(ps, ss - _PARAGRAPH_BACK)
        mentions = self._mentions_between(ps, se)

        def owner_ok(m):
            return not _COMPARAND_BEFORE.search(norm[max(0, m[0] - 4) : m[0]])

        after = re.match(r"\s*的\s*", norm[tok.end : tok.end + 4])
        if after:
            for m in mentions:
                if m[0] == tok.end + after.end():
                    return m[2]
        before = [m for m in mentions if m[1] <= tok.start]
        if before and re.fullmatch(r"\s*的\s*", norm[before[-1][1] : tok.start]):
            return before[-1][2]  # 海南省的19.8%
        in_clause = [m for m in mentions if cs <= m[0] and m[1] <= tok.start and owner_ok(m)]
        if in_clause:
            return in_clause[-1][2]
        if tok.start in self.aligned_regions:
            return self.aligned_regions[tok.start]
        whole = [(m.start(), m.group(0)) for m in re.finditer("全省|全区|全市", norm[cs : tok.start])]
        if whole and self.whole.get(whole[-1][1]):
            return self.whole[whole[-1][1]]
        # 全国 owns a number only inside its clause (全国农村自来水普及率达到 83%), not in 位居全国前列
        mentions = [m for m in mentions if m[2] != self.country or norm[m[0] : m[1]] != "全国"]
        in_sentence = [m for m in mentions if ss <= m[0] and m[1] <= tok.start and owner_ok(m)]
        if in_sentence:
            return in_sentence[0][2]
        later = [m for m in mentions if tok.end <= m[0] and m[1] <= se and owner_ok(m)]
        if later:
            return later[0][2]
        earlier = [m for m in mentions if ps <= m[0] and m[1] <= ss and owner_ok(m)]
        if earlier:
            # the subject of the last sentence that named a place
            last_s = t.sentence(earlier[-1][0])[0]
            found = next(m for m in earlier if m[0] >= last_s)[2]
            self._carried_region[ps] = found
            return found
        sentence_whole = re.findall("全省|全区|全市", norm[ss:se])
        if sentence_whole and self.whole.get(sentence_whole[0]):
            return self.whole[sentence_whole[0]]
        return self._carried_region.get(ps) or self.main_region

    def indicator(self, tok: _Token, previous: str, previous_end: int = -1) -> str:
        """The noun phrase measured: the clause text before the number (after any earlier figure in
        the clause), cleaned of times, places, verbs and comparisons; else the noun after the number
        (认定 126 个智能工厂, 58.3%的GDP增速, 1 亿元排污权抵押贷款); else the previous figure's."""
        t = self.t
        norm = t.norm
        cs, _ = t.clause(tok.start)
        seg = norm[max(cs, previous_end, tok.start - _BACK) : tok.start]
        seg = re.sub(r"（[^）]*）|\([^)]*\)", "", seg)
        seg = re.sub(r"[\"“”‘’'《》\s]", "", seg)
        seg = _PERIODS.sub("", seg)
        for name in self._place_names:
            if name in seg:
                seg = seg.replace(name, "")
        seg = _COMPANY_PREFIX.sub("", seg)
        seg = _COMPARISON_TAIL.sub("", seg)
        if seg.endswith(("贡献", "贡献作用")):
            seg = re.sub(r"(?:为|对)?[^，,]{0,12}?增长贡献(?:作用)?$", "增长贡献", seg)
        seg = _LEADING.sub("", seg)
        seg = _TRAILING.sub("", seg)
        seg = _SUBJECT_WORDS.sub("", seg)
        seg = _BARE_VERB_TAIL.sub("", seg)
        after = _NOUN_AFTER.match(norm[tok.end : tok.end + 24])
        noun = ""
        if after:
            noun = re.sub(r"[\s\"“”]", "", after.group(2))
            noun = re.sub(r"^(?:的|被托举的|大型|共|以上|以下|左右)+", "", noun)
            if _NOT_A_NOUN.match(noun):
                noun = ""
        counted = tok.unit in ("unit", "person", "household") and norm[tok.end - 1 : tok.end] in _COUNTERS + "名位户"
        if counted and noun:
            return noun[:20]
        if len(seg) < 2 or seg in _GENERIC_INDICATORS:
            if noun and (after.group(1) or not seg):
                return noun[:20]
            return previous or seg
        return seg[-30:]

    def source(self, tok: _Token) -> str:
        ss, se = self.t.sentence(tok.start)
        sentence = self.t.norm[ss:se]
        for name in self.sources:
            if name in sentence:
                return name
        return self.sources[0] if len(self.sources) == 1 else ""


# --------------------------------------------------------------------------------------------


def extract_figures(text, *, published_at=None, regions=(), data_sources=(), known_regions=()) -> list[Candidate]:
    """Candidate figures in ``text`` (an article's plain body text), in text order.

    ``regions``: the article's regions (RegionRef, Region instances, dicts with slug/name/
    short_name/aliases/kind, or (key, names) pairs); the most mentioned one is the default
    region. ``known_regions``: more regions to recognise in sentences (e.g. every Region), or
    ``prepare_regions()`` of them, to read them once for many texts.
    ``data_sources``: names of the article's data sources. Never raises: a text it cannot read
    gives fewer candidates, not an error.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        return _extract(text, _as_date(published_at), regions, known_regions, data_sources)
    except RecursionError:  # pragma: no cover - pathological input; the rules above are linear
        return []


def _extract(text, published, regions, known_regions, data_sources) -> list[Candidate]:
    t = _Text(text)
    taken = bytearray(len(text))
    tokens = _scan_specials(t, taken) + _scan_numbers(t, taken)
    tokens.sort(key=lambda k: k.start)
    for tok in tokens:
        _finish_unit(t, tok)
    tokens = _merge_pairs(t, tokens)
    ctx = _Context(t, published, regions, known_regions, data_sources)
    for i, tok in enumerate(tokens):
        cs, ce = t.clause(tok.start)
        if "分别" in t.norm[max(cs, tok.start - _BACK) : tok.start] and (i == 0 or t.clause(tokens[i - 1].start) != (cs, ce)):
            group = [tok]
            for x in tokens[i + 1 :]:
                if t.clause(x.start) != (cs, ce):
                    break
                group.append(x)
            if len(group) >= 2:
                ctx.align(group)
    out: list[Candidate] = []
    prev: _Token | None = None
    prev_indicator = ""
    prev_sentence = None
    prev_direction = None
    prev_paragraph = None
    for tok in tokens:
        if tok.kind in ("change", "range"):
            _finish_unit(t, tok)
        _infer_unit(t, tok, prev)
        if _not_a_figure(t, tok):
            continue
        if tok.unit in ("yuan", "person") and "_per_" not in tok.unit:
            ss, se = t.sentence(tok.start)
            if tok.unit == "yuan" and "经济密度" in t.norm[ss:se]:
                tok.unit = "yuan_per_square_km"
            elif tok.unit == "person" and "人口密度" in t.norm[ss:se] and tok.value < 100000:
                tok.unit = "person_per_square_km"
        sentence = t.sentence(tok.start)
        if sentence != prev_sentence:
            prev_indicator, prev_direction = "", None
        cs, ce = t.clause(tok.start)
        # The quote holds the whole number, also one written across a clause mark (a ratio 2.5 : 1).
        cs, ce = t.stripped(max(cs, tok.start - _QUOTE_AROUND), min(max(ce, tok.end), tok.end + _QUOTE_AROUND))
        if not cs < ce:
            cs, ce = tok.start, tok.end
        indicator = ctx.indicator(tok, prev_indicator, prev.end if prev is not None and sentence == prev_sentence else -1)
        direction = _direction(t, tok, prev_direction)
        paragraph = t.paragraph(tok.start)[0]
        if prev_paragraph is not None and paragraph != prev_paragraph:
            ctx.carry_from(prev_paragraph, paragraph)
        prev_paragraph = paragraph
        out.append(Candidate(
            quote=text[cs:ce], start=cs, end=ce,
            value_text=text[tok.start : tok.end].strip(), number_start=tok.start, number_end=tok.end,
            value=_plain(tok.value), value_end=_plain(tok.value_end) if tok.value_end is not None else None,
            unit=tok.unit, magnitude=tok.magnitude, indicator=indicator, direction=direction,
            approximate=tok.approximate, period=ctx.period(tok, direction), region=ctx.region(tok), source=ctx.source(tok),
        ))
        prev, prev_indicator, prev_sentence, prev_direction = tok, indicator, sentence, direction
        ctx.last_region[paragraph] = out[-1].region
    return out
