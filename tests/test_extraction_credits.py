"""Credit-line recognition (articles.extraction.credits): pure functions, no database.

The snippets are modelled on the syndicated articles (新华社, 人民日报, 每经, 潇湘晨报, 新浪财经) the importer sees.
"""

import pytest

from articles.extraction.credits import (
    CreditLine,
    Person,
    carry_place_prefix,
    is_person_name,
    parse_credit_line,
    split_names,
)


def reporters(*names, role="reporter"):
    return tuple(Person(n, role) for n in names)


CREDIT_LINES = [
    # --- reporter lines ---
    (
        "（本报记者王斌来、崔佳、蒋云龙、刘新吾、常碧罗、王欣悦）",
        CreditLine("reporters", reporters("王斌来", "崔佳", "蒋云龙", "刘新吾", "常碧罗", "王欣悦"), staff_of_publisher=True),
    ),
    ("(本报记者王斌来、崔佳)", CreditLine("reporters", reporters("王斌来", "崔佳"), staff_of_publisher=True)),
    ("（记者田晓航、宋晨）", CreditLine("reporters", reporters("田晓航", "宋晨"))),
    ("（新华社记者 田晓航 宋晨）", CreditLine("reporters", reporters("田晓航", "宋晨"), wire="新华社")),
    (
        "新华社北京4月12日电（记者田晓航、宋晨）",
        CreditLine("reporters", reporters("田晓航", "宋晨"), wire="新华社"),
    ),
    ("本报讯（记者 张三）", CreditLine("reporters", reporters("张三"), staff_of_publisher=True)),
    (
        "记者 程晓玲    每经编辑 杨欢 卢祥勇",
        CreditLine(
            "reporters",
            (Person("程晓玲", "reporter"), Person("杨欢", "editor"), Person("卢祥勇", "editor")),
            organizations=("每日经济新闻",),
        ),
    ),
    (
        "\u3000\u3000记者|程晓玲 编辑|杨欢 卢祥勇 杜恒峰",
        CreditLine(
            "reporters",
            (Person("程晓玲", "reporter"), *reporters("杨欢", "卢祥勇", "杜恒峰", role="editor")),
        ),
    ),
    ("记者 陈张书", CreditLine("reporters", reporters("陈张书"))),
    ("潇湘晨报记者陈张书", CreditLine("reporters", reporters("陈张书"), organizations=("潇湘晨报",))),
    ("潇湘晨报记者 陈张书", CreditLine("reporters", reporters("陈张书"), organizations=("潇湘晨报",))),
    ("\u3000\u3000记者  王红茹丨北京报道", CreditLine("reporters", reporters("王红茹"))),
    ("文/图 张三", CreditLine("reporters", (Person("张三", "writer"), Person("张三", "photographer")))),
    ("通讯员 李四", CreditLine("reporters", reporters("李四", role="writer"))),
    ("作者：王五", CreditLine("reporters", reporters("王五", role="writer"))),
    ("\u3000\u3000（作者：林倩梅 ）", CreditLine("reporters", reporters("林倩梅", role="writer"))),
    ("记者 张三和李四", CreditLine("reporters", reporters("张三", "李四"))),
    # --- editor lines (校对 is treated as an editor line) ---
    ("责任编辑：王珊珊   ", CreditLine("editor", reporters("王珊珊", role="editor"))),
    ("编辑：张三 李四", CreditLine("editor", reporters("张三", "李四", role="editor"))),
    ("责任编辑：刘万里 SF014", CreditLine("editor", reporters("刘万里", role="editor"))),
    ("【纠错】【责任编辑 : 邱丽芳】", CreditLine("editor", reporters("邱丽芳", role="editor"))),
    ("校对|孙志成", CreditLine("editor", reporters("孙志成", role="editor"))),
    # --- photo credits ---
    ("何 超摄", CreditLine("photo", reporters("何超", role="photographer"))),
    ("（何超 摄）", CreditLine("photo", reporters("何超", role="photographer"))),
    ("记者 何超 摄", CreditLine("photo", reporters("何超", role="photographer"))),
    ("本报记者 何超 摄", CreditLine("photo", reporters("何超", role="photographer"), staff_of_publisher=True)),
    ("摄影：何超", CreditLine("photo", reporters("何超", role="photographer"))),
    ("何超/摄", CreditLine("photo", reporters("何超", role="photographer"))),
    ("摄影师何超", CreditLine("photo", reporters("何超", role="photographer"))),
    ("新华社摄影记者 何超", CreditLine("photo", reporters("何超", role="photographer"), wire="新华社")),
    ("图/何超", CreditLine("photo", reporters("何超", role="photographer"))),
    ("摄图网", CreditLine("photo", organizations=("摄图网",))),
    ("图片来源：摄图网", CreditLine("photo", organizations=("摄图网",))),
    ("来源：摄图网", CreditLine("photo", organizations=("摄图网",))),
    ("图/视觉中国", CreditLine("photo", organizations=("视觉中国",))),
    ("来源：厦门日报报道截图", CreditLine("photo", organizations=("厦门日报",))),
    ("图片来源：厦门市统计局", CreditLine("photo", organizations=("厦门市统计局",))),
    # --- data sources ---
    (
        "数据来源：中共重庆市委组织部 重庆市统计局、生态环境局、林业局",
        CreditLine("data_source", organizations=("中共重庆市委组织部", "重庆市统计局", "重庆市生态环境局", "重庆市林业局")),
    ),
    ("资料来源：四川省统计局；农业农村厅", CreditLine("data_source", organizations=("四川省统计局", "四川省农业农村厅"))),
    ("来源：厦门市统计局", CreditLine("data_source", organizations=("厦门市统计局",))),
    ("数据来源：国家统计局", CreditLine("data_source", organizations=("国家统计局",))),
    # --- origin (original publisher) ---
    (
        "\u3000\u3000原标题：100%直接通邮！西藏实现乡镇及以上城市邮政网点全覆盖 来源：央视新闻客户端",
        CreditLine("origin", organizations=("央视新闻客户端",)),
    ),
    ("\u3000\u3000来源：宁夏日报", CreditLine("origin", organizations=("宁夏日报",))),
    ("来源：《中国经济周刊》", CreditLine("origin", organizations=("中国经济周刊",))),
    ('来源 | 微信公众号 " 半月谈 "', CreditLine("origin", organizations=("半月谈",))),
    ("以下文章来源于半月谈 ，作者半月谈记者", CreditLine("origin", organizations=("半月谈",))),
    # --- prose and captions: not credits ---
    ("记者26日从交通运输部新闻发布会获悉，随着西藏交通运输事业的发展，目前西藏共有邮政普遍服务网点754个", None),
    ("记者发现周边田里有的改种了桂花、蓝花楹等花木", None),
    ("半月谈记者发现周边田里有的改种了桂花、蓝花楹等花木", None),
    ("这是记者拍摄的一处建在农田上的厂房", None),
    ("记者梳理发现，截至4月26日，2021年一季度GDP总量超1万亿", None),
    ("《中国经济周刊》记者梳理发现，截至4月26日，2021年一季度GDP总量超1万亿元的省份共8个", None),
    ("记者分析，这种现象与岛内外产业结构差异有关。", None),
    ("厦门大学经济学院副教授丁长发向记者分析，这种现象与岛内外产业结构差异有关。", None),
    ("底图：重庆渝中半岛，城市风貌日新月异。", None),
    ("何超说，重庆发展很快。", None),
    ("新华社北京4月12日电（记者田晓航、宋晨）国家卫健委12日表示，全国疫情总体平稳。", None),
    ("米面 850 吨，肉蛋 500 吨，还无偿支援了蔬菜等食品 5400 多吨。（记者田晓航、宋晨）", None),
    ("记者 这是一个很长很长的名字", None),
    ("", None),
    ("31", None),
]


@pytest.mark.parametrize(("text", "expected"), CREDIT_LINES)
def test_parse_credit_line(text, expected):
    assert parse_credit_line(text) == expected


def test_long_line_is_never_a_credit():
    assert parse_credit_line("来源：" + "很长的一句话" * 20) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("王斌来、崔佳，蒋云龙,刘新吾", ["王斌来", "崔佳", "蒋云龙", "刘新吾"]),
        ("田晓航 宋晨", ["田晓航", "宋晨"]),
        ("杨欢   卢祥勇\u3000杜恒峰", ["杨欢", "卢祥勇", "杜恒峰"]),
        ("何 超", ["何超"]),
        ("何　超", ["何超"]),
        ("张三和李四", ["张三", "李四"]),
        ("张三 及 李四", ["张三", "李四"]),
        ("王和平", ["王和平"]),
        ("John Smith、李四", ["John Smith", "李四"]),
    ],
)
def test_split_names(text, expected):
    assert split_names(text) == expected


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("何超", True),
        ("王欣悦", True),
        ("欧阳娜娜", True),
        ("欧阳东方红", True),
        ("王欣悦超人", False),
        ("阿依古丽·买买提", True),
        ("John Smith", True),
        ("何", False),
        ("发现", False),
        ("26日", False),
        ("这种现象与岛内外产业结构差异有关", False),
    ],
)
def test_is_person_name(name, ok):
    assert is_person_name(name) is ok


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["中共重庆市委组织部", "统计局"], ["中共重庆市委组织部", "重庆市统计局"]),
        (["重庆市统计局", "生态环境局", "林业局"], ["重庆市统计局", "重庆市生态环境局", "重庆市林业局"]),
        (["四川省统计局", "成都市统计局", "农业农村局"], ["四川省统计局", "成都市统计局", "成都市农业农村局"]),
        (["广西壮族自治区统计局", "发展改革委"], ["广西壮族自治区统计局", "广西壮族自治区发展改革委"]),
        (["重庆市统计局", "国家统计局", "国务院发展研究中心"], ["重庆市统计局", "国家统计局", "国务院发展研究中心"]),
        (["统计局", "林业局"], ["统计局", "林业局"]),  # no prefix seen yet
        (["重庆市统计局", "清华大学", "Wind"], ["重庆市统计局", "清华大学", "Wind"]),  # not government bodies
    ],
)
def test_carry_place_prefix(items, expected):
    assert carry_place_prefix(items) == expected
