"""Figure extraction (issue 6, "Extraction" and "Accuracy, measured").

Unit tests for each rule of ``articles.extraction.figures``, and the score on the hand labels in
``tests/data/figures_gold.json`` (precision and recall >= 0.95, misses printed on failure).
Pure: no database, nothing outside this repository.
"""

import random
import re
from decimal import Decimal
from pathlib import Path

import pytest

from articles.extraction import figures as figures_module
from articles.extraction.figures import DIRECTIONS, UNITS, Candidate, RegionRef, extract_figures, prepare_regions
from articles.extraction.scoring import extract_for, load_gold, score_article, score_gold

GOLD_PATH = Path(__file__).parent / "data" / "figures_gold.json"

CHENGYU = RegionRef("cheng-yu-di-qu-shuang-cheng-jing-ji-quan", ("成渝地区双城经济圈", "成渝双城经济圈"), "area")
CHONGQING = RegionRef("chong-qing", ("重庆市", "重庆", "巴渝"), "province")
WANZHOU = RegionRef("wan-zhou", ("万州区", "万州"), "county")
ANHUI = RegionRef("an-hui", ("安徽省", "安徽"), "province")
CHINA = RegionRef("zhong-guo", ("中国",), "country")
SEED_REGIONS = (CHENGYU, CHONGQING, WANZHOU)


def figures(text, **context):
    context.setdefault("published_at", "2022-08-12T01:15:32+00:00")
    return extract_figures(text, **context)


def one(text, **context) -> Candidate:
    found = figures(text, **context)
    assert len(found) == 1, [(c.value_text, c.quote) for c in found]
    return found[0]


def values(text, **context):
    return [c.value for c in figures(text, **context)]


# --- Numbers and magnitudes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit", "magnitude"),
    [
        ("总量达 7.4 万亿元。", "7400000000000", "yuan", "1000000000000"),
        ("广东省以27117.96亿元居于全国首位。", "2711796000000", "yuan", "100000000"),
        ("罚款 2425 万元。", "24250000", "yuan", "10000"),
        ("出口 12,500 美元。", "12500", "usd", "1"),
        ("完成集装箱吞吐量4120万标箱。", "41200000", "teu", "10000"),
        ("接待游客 12 万人次。", "120000", "person_time", "10000"),
        ("低效企业 22 户。", "22", "household", "1"),
        ("厦门全市土地面积仅1700.61平方公里。", "1700.61", "square_km", "1"),
        ("展示面积达 2000 平米。", "2000", "square_m", "1"),
        ("累计向上海供应蔬菜 1.8 万吨。", "18000", "ton", "10000"),
        ("栽植中山杉 3200 亩。", "3200", "mu", "1"),
        ("绿化库岸 70 公里。", "70", "km", "1"),
        ("切换时间仅需 15 秒。", "15", "second", "1"),
        ("认定 126 个智能工厂。", "126", "unit", "1"),
        ("遴选了 10 位青年科学家。", "10", "person", "1"),
        ("展示 30 个双创典型人物。", "30", "person", "1"),
    ],
)
def test_magnitudes_and_units(text, value, unit, magnitude):
    figure = one(text)
    assert (figure.value, figure.unit, figure.magnitude) == (Decimal(value), unit, Decimal(magnitude))
    assert figure.value_end is None


def test_number_as_written_and_offsets_point_into_the_text():
    text = "2021 年，成渝地区双城经济圈地区生产总值增长 8.5%，总量达 7.4 万亿元。"
    growth, total = figures(text, regions=SEED_REGIONS)
    assert total.value_text == "7.4 万亿元" == text[total.number_start : total.number_end]
    assert growth.quote == "成渝地区双城经济圈地区生产总值增长 8.5%" == text[growth.start : growth.end]
    assert total.quote == "总量达 7.4 万亿元" == text[total.start : total.end]


def test_chinese_numerals_via_cn2an():
    population, farmland = figures("全市常住人口三千四百万人，耕地两千亩。")
    assert (population.value, population.unit) == (Decimal(34000000), "person")
    assert (farmland.value, farmland.unit) == (Decimal(2000), "mu")


def test_small_chinese_counts_are_rhetoric_not_statistics():
    assert figures("浙江需回答好五个问题，落实十条措施，在两个开发区内。") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("占比超过三成。", "30"),
        ("增加了两成。", "20"),
        ("接近福建全省人口增量的3成。", "30"),
        ("超过全市人口增量的五分之四。", "80"),
        ("通关时间缩短约三分之一。", "33.333333"),
        ("承载了全市一半以上的人口。", "50"),
        ("百分之三十的企业。", "30"),
    ],
)
def test_percent_words(text, value):
    figure = one(text)
    assert (figure.value, figure.unit) == (Decimal(value), "percent")


def test_doubling_is_an_increase_of_100_percent():
    figure = one("城乡居民收入都翻一番以上。")
    assert (figure.value, figure.unit, figure.direction, figure.approximate) == (Decimal(100), "percent", "increase", True)


def test_negative_values():
    figure = one("全市人口自然增长率 -2.75 ‰。")
    assert (figure.value, figure.unit) == (Decimal("-2.75"), "permille")


def test_ratios():
    assert one("岛内外人口密度比高达11∶1。").value == Decimal(11)
    assert one("岛内外人口密度比高达11∶1。").unit == "ratio"
    assert one("新建数据中心电能利用效率控制在 1.3 以下。").unit == "ratio"
    assert figures("三次产业结构为0.4:39.5:60.1。") == []  # three parts: no single value holds it


def test_densities_and_per_mu_prices():
    assert one("岛内经济密度21.83亿元/平方公里。").unit == "yuan_per_square_km"
    assert one("人口密度每平方公里1.3万人。").unit == "person_per_square_km"
    assert one("一边是每亩 3000 元腾退补贴。").unit == "yuan_per_mu"


# --- 百分点 and directions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "direction"),
    [
        ("比上年提升 0.8 个百分点。", "percentage_point", "increase"),
        ("比2019年同期高0.3个百分点。", "percentage_point", "increase"),
        ("高于全国平均值1.2个百分点。", "percentage_point", "level"),
        ("增幅比全国高1.8个百分点。", "percentage_point", "level"),
        ("生产效率提升 33%。", "percent", "increase"),
        ("不良率下降 44.74%。", "percent", "decrease"),
        ("湖北省以58.3%的增速位居首位。", "percent", "increase"),
        ("七腾科技产值年均增速达 50%。", "percent", "increase"),
        ("水质优良比例达到 98.6%。", "percent", "level"),
        ("占地区生产总值的比重提高到 12.9%。", "percent", "level"),
        ("规模以上工业增加值7860.39亿元。", "yuan", "level"),
        ("带动相关企业新增订单约 420 亿元。", "yuan", "level"),
        ("为全部工业增加值增长贡献60.7%。", "percent", "level"),
        ("这一数据高出上海70.24亿元。", "yuan", "level"),
    ],
)
def test_percentage_points_and_directions(text, unit, direction):
    figure = one(text)
    assert (figure.unit, figure.direction) == (unit, direction)


def test_a_comparand_value_keeps_the_sentence_direction():
    found = figures("增速仅次于湖北省的58.3%，高于江苏的19.2%、广东省的18.6%。")
    assert [(c.value, c.direction) for c in found] == [
        (Decimal("58.3"), "increase"), (Decimal("19.2"), "increase"), (Decimal("18.6"), "increase")
    ]


# --- Approximate markers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["累计实施 4700 余个项目。", "栽植中山杉 3200 多亩。", "盘活四荒地约 48 万亩。", "接近 30 万人。", "超 3.5 万亿元。",
     "超过 1.2 亿颗。", "突破 1 万亿元。", "比重达到 15% 左右。", "同比增长 35% 以上。", "电能利用效率控制在 1.3 以下。",
     "接近三成。"],
)
def test_approximate_markers(text):
    assert one(text).approximate


def test_exact_numbers_are_not_approximate():
    assert not one("全市数字经济核心产业增加值达到 2580 亿元。").approximate


# --- Periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "published_at", "period"),
    [
        ("2021 年，全市软件业务收入突破 5000 亿元。", "2022-08-12", "2021"),
        ("2021年一季度，GDP为9458.86亿元。", "2021-04-26", "2021Q1"),
        ("一季度，广东省完成规模以上工业增加值7860.39亿元。", "2021-04-26", "2021Q1"),
        ("1—7月，全区固定资产投资同比增长3%。", "2021-08-30", "2021-01/2021-07"),
        ("今年上半年，全市规模以上工业增加值同比增长 9.8%。", "2022-08-12", "2022H1"),
        ("截至 4 月 11 日，已累计向上海供应蔬菜 1.8 万吨。", "2022-04-14", "2022-04-11"),
        ("“十四五”期间，累计建成 300 个项目。", "2022-08-12", "2021/2025"),
        ("到 2025 年，产业规模力争达到 1.5 万亿元。", "2022-08-12", "2025"),
        ("2016~2020年，岛内GDP占比从52.37%提高到54.02%。", "2021-06-12", "2016/2020"),
        ("去年，研发人员增加了 300 多人。", "2022-08-12", "2021"),
        ("累计实施 4700 余个智能化改造项目。", "2022-07-31", "2022"),
    ],
)
def test_periods(text, published_at, period):
    assert one(text, published_at=published_at).period == period


# One example of each of _PERIODS' alternatives, in its order.
EVERY_PERIOD = ("2016~2020年、2021年1-3月、2021年第一季度、2021年上半年、截至2022年4月11日、到2021年底、2021年4月、"
                "2019年以来、今年4月、力争到2025年、2021年、1—7月、三季度、去年下半年、去年同期、十四五、这十年、七普")


def test_periods_are_looked_for_only_where_one_can_start_and_all_are_found():
    plain = re.compile(figures_module._PERIODS.pattern.removeprefix(f"(?=[{figures_module._PERIOD_STARTS}])"))
    assert plain.pattern != figures_module._PERIODS.pattern
    texts = [EVERY_PERIOD] + [article["body_text"] for article in load_gold(GOLD_PATH)["articles"]]
    found = 0
    for text in texts:
        expected = [(m.span(), m.groupdict()) for m in plain.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in figures_module._PERIODS.finditer(text)] == expected
        found += len(expected)
    assert len(list(plain.finditer(EVERY_PERIOD))) == EVERY_PERIOD.count("、") + 1 and found > 100


def test_a_comparand_time_is_not_the_figures_period():
    found = figures("2021 年，贵州森林覆盖率达到 62.12%，比上年提高 0.61 个百分点。", published_at="2022-08-17")
    assert [c.period for c in found] == ["2021", "2021"]


def test_a_time_named_inside_a_quoted_name_is_not_a_period():
    found = figures("2021 年，74 个 \" 十四五 \" 国控断面水质优良比例达到 98.6%。", published_at="2022-07-31")
    assert [(c.value, c.period) for c in found] == [(Decimal(74), "2021"), (Decimal("98.6"), "2021")]


def test_enumerated_years_pair_with_enumerated_values():
    found = figures("过去的2019年、2020年，厦门GDP增速分别跑出7.9%、5.7%的好成绩。", published_at="2021-06-12")
    assert [(c.value, c.period) for c in found] == [(Decimal("7.9"), "2019"), (Decimal("5.7"), "2020")]


# --- Ranges and from-to changes -------------------------------------------------------------------------


def test_from_to_is_one_figure_with_both_ends():
    figure = one("城镇化率从63.2%提高到72.7%。")
    assert (figure.value, figure.value_end, figure.unit, figure.direction) == (
        Decimal("63.2"), Decimal("72.7"), "percent", "increase"
    )
    assert figure.value_text == "63.2%提高到72.7%"


def test_from_to_decrease_and_bare_ratios():
    figure = one("城乡居民收入倍差从2.37缩小到1.94。")
    assert (figure.value, figure.value_end, figure.unit, figure.direction) == (
        Decimal("2.37"), Decimal("1.94"), "ratio", "decrease"
    )


def test_from_to_with_a_base_year_and_a_unit_on_one_end_only():
    figure = one("岛外的集美区人口从2010年的50多万增长至103.7万人。")
    assert (figure.value, figure.value_end, figure.unit, figure.approximate) == (
        Decimal(500000), Decimal(1037000), "person", True
    )


def test_from_to_keeps_a_per_area_unit():
    figure = one("岛内经济密度从每平方公里7.95亿元增加到21.83亿元。")
    assert (figure.value, figure.value_end, figure.unit) == (Decimal(795000000), Decimal(2183000000), "yuan_per_square_km")


def test_ranges():
    band = one("在沿江消落带 165 米到 175 米水位线栽植。")
    assert (band.value, band.value_end, band.unit, band.direction) == (Decimal(165), Decimal(175), "m", "level")
    growth = one("预计全年增长5%-6%。")
    assert (growth.value, growth.value_end, growth.unit, growth.direction) == (Decimal(5), Decimal(6), "percent", "increase")


# --- Regions -------------------------------------------------------------------------------------------


def test_an_area_wins_over_the_article_region_it_contains():
    text = "重庆利用区位优势。2021 年，成渝地区双城经济圈地区生产总值增长 8.5%，总量达 7.4 万亿元。重庆累计实施 4700 余个项目。"
    found = figures(text, regions=SEED_REGIONS)
    assert [c.region for c in found] == [CHENGYU.key, CHENGYU.key, CHONGQING.key]


def test_a_county_gets_its_own_figure():
    text = "重庆在发展中保护绿水青山。万州区陆续在沿江消落带栽植中山杉 3200 多亩，绿化库岸 70 余公里。"
    assert [c.region for c in figures(text, regions=SEED_REGIONS)] == [WANZHOU.key, WANZHOU.key]


def test_the_article_region_is_the_default():
    text = "重庆大力实施创新驱动。重庆正在发生变革。如今累计实施 4700 余个智能化改造项目。"
    assert one(text, regions=SEED_REGIONS).region == CHONGQING.key


def test_a_comparand_is_not_the_owner():
    text = "一季度，安徽省规模以上工业增加值同比增长26.3%，增幅比全国高1.8个百分点。"
    found = figures(text, regions=(ANHUI,), known_regions=(CHINA,))
    assert [c.region for c in found] == [ANHUI.key, ANHUI.key]


def test_known_regions_read_once_give_what_the_regions_give():
    text = "万州区地区生产总值增长8.1%。\n安徽省规模以上工业增加值增长7%。"
    assert [c.region for c in figures(text, regions=(CHONGQING,), known_regions=[CHINA])] == ["万州区", CHONGQING.key]
    for known in ([CHINA, WANZHOU, ANHUI], prepare_regions([CHINA, WANZHOU, ANHUI])):
        assert [c.region for c in figures(text, regions=(CHONGQING,), known_regions=known)] == [WANZHOU.key, ANHUI.key]


def test_a_number_followed_by_its_region():
    text = "湖北省GDP达9872.67亿元，距离10223.99亿元的湖南仅一步之遥。"
    hunan = RegionRef("hu-nan", ("湖南省", "湖南"), "province")
    hubei = RegionRef("hu-bei", ("湖北省", "湖北"), "province")
    assert [c.region for c in figures(text, regions=(hubei, hunan))] == ["hu-bei", "hu-nan"]


def test_unlisted_counties_come_back_as_written():
    found = figures("县（区）投资增速前三名：中宁县增长58.3%，海原县增长36.8%。", published_at="2021-08-30")
    assert [c.region for c in found] == ["中宁县", "海原县"]


def test_whole_province_words_name_the_article_region():
    guizhou = RegionRef("gui-zhou", ("贵州省", "贵州"), "province")
    text = "贵州森林覆盖率达到 62.12%。\n数字经济加快成长。2021 年，全省数字经济增加值约 6500 亿元，增速位居全国前列。"
    found = figures(text, regions=(guizhou,), known_regions=(CHINA,))
    assert [c.region for c in found] == ["gui-zhou", "gui-zhou"]


def test_region_objects_like_the_model_are_accepted():
    class Region:  # what articles.models.Region offers: slug, kind, match_names()
        slug, kind = "wan-zhou", "county"

        def match_names(self):
            return ["万州区", "万州"]

    assert one("万州区栽植中山杉 3200 多亩。", regions=[Region()]).region == "wan-zhou"


def test_the_only_data_source_is_the_source():
    figure = one("统计数据显示，农村居民人均可支配收入达到 35247 元。", data_sources=["浙江省统计局"])
    assert figure.source == "浙江省统计局"


# --- Not figures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2018 年 3 月，习近平总书记参加十三届全国人大一次会议。",  # dates, ordinals
        "截至4月26日，数据已发布。2021年以来成效明显。",  # dates
        "9 月 13-15 日在省科技馆开展。",  # a date range
        "启动仪式定于 9 月 13 日上午 10:00 举办，14:00-17:30 路演。",  # clock times
        "24 小时报料热线 0731-85571188，或拨打 13912345678。",  # phone numbers, a duration in a name
        "湖北省排名全国第9位，居全国第12位，位居前三名。",  # ranks
        "1．地级市投资增速\n（一）扩大有效投资",  # list numbering
        "党的十八大以来，共建“一带一路”，联通 21 世纪海上丝绸之路。",  # slogans
        "推出“四自一简”改革，迭代形成“1612”体系，开展“15分钟公共文化服务圈”建设。",  # numbers inside quoted names
        "宁夏隆基乐叶科技有限公司年产3GW单晶电池项目，地铁3号线，5G基站，3C认证。",  # counts inside names
        "岛外4个区面积较大；27个省份发布了数据；山区 26 县加快发展。",  # sets named by their size
        "38个工业行业大类中，多数保持增长。",  # a set named by its size
        "GDP总量超1万亿元的省份较多。全面消除年收入 20 万元以下、经营性收入 10 万元以下的行政村。",  # thresholds
        "家庭年可支配收入20-60万元群体扩大。",  # a bracket
        "当一个国家或地区人口占比超过 7% 时，意味着进入老龄化。",  # a definition's threshold
        "连续 4 届智博会。82 岁的徐元惠老人。双目高清摄像头 360 度环拍。",  # ordinals, ages, specs
        "浙江日报\n12\n",  # a stray page counter
    ],
)
def test_not_figures(text):
    assert figures(text) == [], [(c.value_text, c.quote) for c in figures(text)]


def test_a_count_that_is_an_object_is_a_figure():
    assert one("已组织 11 省份开展联保联供。").value == Decimal(11)
    assert one("目前全国有 149 市已经进入深度老龄化。").value == Decimal(149)


def test_thresholds_in_a_set_sentence_are_not_figures_but_a_named_benchmark_is():
    found = figures("2个省份GDP超过2万亿元，其中32个行业增速高于20%。")
    assert [c.value for c in found] == [Decimal(32)]  # the count of industries is a statistic; 2万亿元 and 20% are bounds
    benchmark = figures("8个省份GDP增速超过18.3%的全国平均水平。")
    assert [c.value for c in benchmark] == [Decimal("18.3")]


# --- Robustness ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", 42, b"bytes", ["list"], "\x00\x01", "%" * 50, "一" * 500])
def test_odd_input_gives_a_list(text):
    assert isinstance(extract_figures(text), list)


def test_never_raises_on_arbitrary_input():
    alphabet = list("0123456789.,-—~:：%‰ 年月日万亿千百十零〇一二两三四五六七八九")
    alphabet += list("余多约近超左右以上下个元人亩吨从由到至提高增长下降比的")
    alphabet += list("，。；、（）“”\"\n《》第前名区县市省全国比重翻番成分之半每平方公里/") + ["\ud800", "\x00", "🙂", "Ⅱ"]
    rng = random.Random(6)
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        for c in extract_figures(text, published_at=rng.choice([None, "2022-01-01", "garbage", 2022]), regions=[CHONGQING]):
            assert text[c.start : c.end] == c.quote
            assert c.unit in UNITS and c.direction in DIRECTIONS


def test_every_candidate_uses_the_vocabulary_and_exact_offsets():
    doc = load_gold(GOLD_PATH)
    for article in doc["articles"]:
        text = article["body_text"]
        for c in extract_for(doc, article):
            assert c.unit in UNITS, c
            assert c.direction in DIRECTIONS, c
            assert text[c.start : c.end] == c.quote
            assert text[c.number_start : c.number_end].strip() == c.value_text
            assert c.start <= c.number_start < c.number_end <= c.end or c.quote in text


# --- The gold file and the score ---------------------------------------------------------------------------


def test_gold_file_is_self_consistent():
    doc = load_gold(GOLD_PATH)
    articles = doc["articles"]
    assert len([a for a in articles if a["source"].startswith("corpus/")]) >= 5
    assert any(a["source"] == "corpus/000_557d8bcde4ad9185.txt" for a in articles)
    assert len([a for a in articles if a["source"].startswith("demo/")]) == 4
    slugs = {r["slug"] for r in doc["regions"]}
    for article in articles:
        text = article["body_text"]
        assert set(article["regions"]) <= slugs
        assert article["not_figures"], article["slug"]
        for f in article["figures"]:
            assert text[f["start"] : f["end"]] == f["quote"], f
            assert f["unit"] in UNITS, f
            assert f["direction"] in DIRECTIONS, f
            Decimal(f["value"])
            assert f["value_end"] is None or Decimal(f["value_end"]) is not None
        for n in article["not_figures"]:
            assert text[n["start"] : n["end"]] == n["text"], n


def test_scoring_counts_a_match_on_value_unit_direction_and_overlapping_quote():
    article = {
        "slug": "t", "body_text": "总量达 7.4 万亿元，增长 8.5%。",
        "figures": [
            {"quote": "总量达 7.4 万亿元", "start": 0, "end": 11, "value": "7400000000000", "value_end": None,
             "unit": "yuan", "direction": "level", "indicator": "总量", "period": "2022", "region": "", "approximate": False},
            {"quote": "增长 8.5%", "start": 12, "end": 19, "value": "8.5", "value_end": None, "unit": "percent",
             "direction": "decrease", "indicator": "", "period": "2022", "region": "", "approximate": False},
        ],
        "not_figures": [],
    }
    result, misses, _ = score_article(article, figures(article["body_text"]))
    assert (result.true_positives, result.false_positives, result.false_negatives) == (1, 1, 1)
    assert {m.kind for m in misses} == {"false_negative", "false_positive"}


def test_gold_score_meets_the_target():
    score = score_gold(load_gold(GOLD_PATH))
    report = f"{score.summary()}\n{score.format_misses()}"
    assert score.precision >= 0.95, report
    assert score.recall >= 0.95, report
