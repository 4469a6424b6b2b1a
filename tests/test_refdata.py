"""Reference data: regions, industries, size rules and the unified social credit code (no Flask)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.refdata import credit_code, industries, regions, sizes
from webapp.refdata.credit_code import CHARSET, Problem

D = Decimal

# ---------------------------------------------------------------------------------------------------
# Regions (GB/T 2260, Zhejiang)

COUNTIES_PER_CITY = {
    "330100": 13,  # 杭州
    "330200": 10,  # 宁波
    "330300": 12,  # 温州
    "330400": 7,  # 嘉兴
    "330500": 5,  # 湖州
    "330600": 6,  # 绍兴
    "330700": 9,  # 金华
    "330800": 6,  # 衢州
    "330900": 4,  # 舟山
    "331000": 9,  # 台州
    "331100": 9,  # 丽水
}


def test_region_counts() -> None:
    everything = regions.all_regions()
    assert len(everything) == 1 + 11 + 90
    assert [r.code for r in everything if r.level == "province"] == ["330000"]
    assert [c.code for c in regions.cities()] == sorted(COUNTIES_PER_CITY)
    assert {c: len(regions.counties(c)) for c in COUNTIES_PER_CITY} == COUNTIES_PER_CITY
    assert sum(r.level == "county" for r in everything) == 90


def test_region_codes_unique_and_well_formed() -> None:
    everything = regions.all_regions()
    codes = [r.code for r in everything]
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)
    for r in everything:
        assert len(r.code) == 6 and r.code.isdigit() and r.code.startswith("33"), r
        assert r.name_zh and r.name_en and r.name_en.isascii(), r


def test_region_parents() -> None:
    for r in regions.all_regions():
        if r.level == "province":
            assert r.parent is None
            continue
        assert r.parent is not None
        parent = regions.get(r.parent)
        assert parent is not None, r
        if r.level == "city":
            assert parent.level == "province" and r.code.endswith("00")
        else:
            assert parent.level == "city" and r.code[:4] == parent.code[:4] and not r.code.endswith("00")


def test_county_suffixes_match_english() -> None:
    suffix = {"区": " District", "县": " County", "市": " City"}
    for r in regions.all_regions():
        if r.level == "county":
            assert r.name_en.endswith(suffix[r.name_zh[-1]]), r


@pytest.mark.parametrize(
    ("code", "zh", "en", "parent"),
    [
        ("330102", "上城区", "Shangcheng District", "330100"),
        ("330105", "拱墅区", "Gongshu District", "330100"),
        ("330106", "西湖区", "Xihu District", "330100"),
        ("330113", "临平区", "Linping District", "330100"),
        ("330114", "钱塘区", "Qiantang District", "330100"),
        ("330182", "建德市", "Jiande City", "330100"),
        ("330213", "奉化区", "Fenghua District", "330200"),
        ("330383", "龙港市", "Longgang City", "330300"),
        ("330603", "柯桥区", "Keqiao District", "330600"),
        ("330604", "上虞区", "Shangyu District", "330600"),
        ("330783", "东阳市", "Dongyang City", "330700"),
        ("331083", "玉环市", "Yuhuan City", "331000"),
        ("331127", "景宁畲族自治县", "Jingning She Autonomous County", "331100"),
        ("330600", "绍兴市", "Shaoxing", "330000"),
        ("330000", "浙江省", "Zhejiang", None),
    ],
)
def test_region_entries(code: str, zh: str, en: str, parent: str | None) -> None:
    r = regions.get(code)
    assert r is not None
    assert (r.name_zh, r.name_en, r.parent) == (zh, en, parent)
    assert regions.name(code, "zh") == zh
    assert regions.name(code, "en") == en
    assert regions.name(code, "en-GB") == en


@pytest.mark.parametrize("code", ["330103", "330104", "330183", "330185", "330283", "330322", "330621"])
def test_abolished_codes_absent(code: str) -> None:
    assert regions.get(code) is None
    assert regions.name(code, "zh") == code


def test_region_is_frozen() -> None:
    r = regions.get("330106")
    assert r is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.name_zh = "x"  # type: ignore[misc]


def test_is_within() -> None:
    assert regions.is_within("330106", "330100")
    assert regions.is_within("330106", "330000")
    assert regions.is_within("330106", "330106")
    assert regions.is_within("330100", "330000")
    assert regions.is_within("330000", "330000")
    assert not regions.is_within("330106", "330200")
    assert not regions.is_within("330100", "330106")
    assert not regions.is_within("330000", "330100")
    assert not regions.is_within("999999", "330000")
    assert not regions.is_within("330106", "999999")
    for r in regions.all_regions():
        assert regions.is_within(r.code, "330000")


def test_city_of_and_children() -> None:
    assert regions.city_of("330106") == "330100"
    assert regions.city_of("330383") == "330300"
    assert regions.city_of("330100") == "330100"
    assert regions.city_of("330000") is None
    assert regions.city_of("110101") is None
    assert regions.children("330000") == regions.cities()
    assert [r.code for r in regions.counties("330600")] == [
        "330602",
        "330603",
        "330604",
        "330624",
        "330681",
        "330683",
    ]
    assert regions.children("330106") == []
    assert regions.counties("330000") == []
    assert regions.counties("999999") == []


# ---------------------------------------------------------------------------------------------------
# Industries (GB/T 4754-2017)

SECTION_RANGES = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}


def test_industry_counts() -> None:
    assert [s.letter for s in industries.sections()] == list("ABCDEFGHIJKLMNOPQRST")
    assert [d.code for d in industries.divisions()] == [f"{n:02d}" for n in range(1, 98)]
    for s in industries.sections():
        assert s.name_zh and s.name_en


def test_every_division_in_its_section() -> None:
    for letter, (first, last) in SECTION_RANGES.items():
        assert [d.code for d in industries.divisions(letter)] == [f"{n:02d}" for n in range(first, last + 1)]
    for d in industries.divisions():
        assert industries.section_of(d.code) == d.section
        assert industries.section(d.section) is not None
        assert d.name_zh and d.name_en


def test_industry_lookups() -> None:
    assert industries.section_of("13") == "C"
    assert industries.section_of("65") == "I"
    assert industries.section_of("6510") == "I"
    assert industries.section_of("01") == "A"
    assert industries.section_of("97") == "T"
    assert industries.section_of("98") is None
    assert industries.section_of("") is None
    d = industries.division("65")
    assert d is not None and d.name_zh == "软件和信息技术服务业"
    assert industries.name("C", "zh") == "制造业"
    assert industries.name("c", "en") == "Manufacturing"
    assert industries.name("13", "zh") == "农副食品加工业"
    assert industries.name("96", "zh") == "基层群众自治组织及其他组织"
    assert industries.name("79", "zh") == "土地管理业"
    assert industries.name("65", "en") == "Software and Information Technology Services"
    assert industries.name("99", "en") == "99"
    assert industries.section("Z") is None
    assert industries.division("00") is None
    assert industries.divisions("Z") == []
    assert len(industries.divisions("c")) == 31


# ---------------------------------------------------------------------------------------------------
# Size classes (工信部联企业〔2011〕300号, 统计上大中小微型企业划分办法（2017）)

# (group, division codes, employees, revenue, assets) lower bounds per class: (large, medium, small)
EXPECTED_THRESHOLDS = {
    "agriculture": {"revenue": (20000, 500, 50)},
    "industry": {"employees": (1000, 300, 20), "revenue": (40000, 2000, 300)},
    "construction": {"revenue": (80000, 6000, 300), "assets": (80000, 5000, 300)},
    "wholesale": {"employees": (200, 20, 5), "revenue": (40000, 5000, 1000)},
    "retail": {"employees": (300, 50, 10), "revenue": (20000, 500, 100)},
    "transport": {"employees": (1000, 300, 20), "revenue": (30000, 3000, 200)},
    "warehousing": {"employees": (200, 100, 20), "revenue": (30000, 1000, 100)},
    "postal": {"employees": (1000, 300, 20), "revenue": (30000, 2000, 100)},
    "accommodation": {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)},
    "catering": {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)},
    "information_transmission": {"employees": (2000, 100, 10), "revenue": (100000, 1000, 100)},
    "software_it": {"employees": (300, 100, 10), "revenue": (10000, 1000, 50)},
    "real_estate_development": {"revenue": (200000, 1000, 100), "assets": (10000, 5000, 2000)},
    "property_management": {"employees": (1000, 300, 100), "revenue": (5000, 1000, 500)},
    "leasing_business": {"employees": (300, 100, 10), "assets": (120000, 8000, 100)},
    "other": {"employees": (300, 100, 10)},
}

SAMPLE_CODE = {
    "agriculture": "01",
    "industry": "13",
    "construction": "47",
    "wholesale": "51",
    "retail": "52",
    "transport": "54",
    "warehousing": "592",
    "postal": "60",
    "accommodation": "61",
    "catering": "62",
    "information_transmission": "64",
    "software_it": "65",
    "real_estate_development": "7010",
    "property_management": "702",
    "leasing_business": "72",
    "other": "74",
}

ORDER = ("large", "medium", "small", "micro")


def test_threshold_table() -> None:
    assert set(sizes.GROUPS) == set(EXPECTED_THRESHOLDS)
    for key, group in sizes.GROUPS.items():
        got = {t.indicator: (t.large, t.medium, t.small) for t in group.thresholds}
        assert got == EXPECTED_THRESHOLDS[key], key


def _classify(code: str, figures: Mapping[str, int | Decimal]) -> sizes.SizeResult:
    employees = figures.get("employees")
    revenue = figures.get("revenue")
    assets = figures.get("assets")
    return sizes.classify(
        code,
        None if employees is None else int(employees),
        None if revenue is None else D(revenue),
        None if assets is None else D(assets),
    )


@pytest.mark.parametrize("key", sorted(EXPECTED_THRESHOLDS))
def test_every_group_at_and_below_each_bound(key: str) -> None:
    """At every class's bounds the firm gets that class; one unit below any indicator drops one class."""
    table = EXPECTED_THRESHOLDS[key]
    code = SAMPLE_CODE[key]
    for i, size in enumerate(ORDER[:3]):
        at = {ind: bounds[i] for ind, bounds in table.items()}
        result = _classify(code, at)
        assert (result.size_class, result.group) == (size, key), (key, at)
        for ind in table:
            unit: int | Decimal = 1 if ind == "employees" else D("0.01")
            below = {**at, ind: at[ind] - unit}
            assert _classify(code, below).size_class == ORDER[i + 1], (key, below)


@pytest.mark.parametrize(
    ("employees", "revenue", "expected"),
    [
        (1000, "40000", "large"),
        (5000, "100000", "large"),
        (999, "40000", "medium"),
        (1000, "39999.99", "medium"),
        (300, "2000", "medium"),
        (299, "2000", "small"),
        (300, "1999.99", "small"),
        (20, "300", "small"),
        (19, "300", "micro"),
        (20, "299.99", "micro"),
        (1000, "300", "small"),  # large on employees only: drops to the class both indicators reach
        (5000, "100", "micro"),
        (10, "90000", "micro"),
        (0, "0", "micro"),
    ],
)
def test_industry_group(employees: int, revenue: str, expected: str) -> None:
    for code in ("06", "13", "39", "43", "46", "3911"):
        result = sizes.classify(code, employees, D(revenue))
        assert result.size_class == expected
        assert result.group == "industry"
        assert "工业" in result.rule["zh"] and "300" in result.rule["zh"] and "2000" in result.rule["zh"]
        assert "ndustry" in result.rule["en"]


@pytest.mark.parametrize(
    ("code", "employees", "revenue", "assets", "expected"),
    [
        # 零售业: 中型 X≥50 且 Y≥500；小型 X≥10 且 Y≥100
        ("52", 300, "20000", None, "large"),
        ("52", 299, "20000", None, "medium"),
        ("52", 50, "500", None, "medium"),
        ("52", 49, "500", None, "small"),
        ("52", 50, "499", None, "small"),
        ("52", 10, "100", None, "small"),
        ("52", 9, "100", None, "micro"),
        ("52", 10, "99.99", None, "micro"),
        # 软件和信息技术服务业: 中型 X≥100 且 Y≥1000；小型 X≥10 且 Y≥50
        ("65", 300, "10000", None, "large"),
        ("65", 100, "1000", None, "medium"),
        ("65", 99, "1000", None, "small"),
        ("65", 10, "50", None, "small"),
        ("65", 10, "49.99", None, "micro"),
        ("65", 9, "50", None, "micro"),
        # 餐饮业: 中型 X≥100 且 Y≥2000；小型 X≥10 且 Y≥100
        ("62", 300, "10000", None, "large"),
        ("62", 100, "2000", None, "medium"),
        ("62", 100, "1999", None, "small"),
        ("62", 10, "100", None, "small"),
        ("62", 9, "100", None, "micro"),
        # 建筑业: 营业收入 + 资产总额, no employee figure needed
        ("47", None, "80000", "80000", "large"),
        ("48", None, "80000", "79999", "medium"),
        ("49", None, "6000", "5000", "medium"),
        ("50", None, "5999", "5000", "small"),
        ("50", 5000, "6000", "4999", "small"),
        ("47", None, "300", "300", "small"),
        ("47", None, "299", "300", "micro"),
        ("47", None, "300", "299", "micro"),
        # 批发业: 中型 X≥20 且 Y≥5000；小型 X≥5 且 Y≥1000
        ("51", 200, "40000", None, "large"),
        ("51", 20, "5000", None, "medium"),
        ("51", 19, "5000", None, "small"),
        ("51", 5, "1000", None, "small"),
        ("51", 4, "1000", None, "micro"),
        # 信息传输业 (63, 64)
        ("63", 2000, "100000", None, "large"),
        ("64", 1999, "100000", None, "medium"),
        ("64", 10, "100", None, "small"),
        # 农、林、牧、渔业: revenue only
        ("01", None, "20000", None, "large"),
        ("05", None, "500", None, "medium"),
        ("03", None, "50", None, "small"),
        ("04", None, "49.99", None, "micro"),
        # 租赁和商务服务业: employees + total assets
        ("71", 300, None, "120000", "large"),
        ("72", 100, None, "8000", "medium"),
        ("72", 10, None, "100", "small"),
        ("72", 10, None, "99", "micro"),
        # 其他未列明行业: employees only
        ("74", 300, None, None, "large"),
        ("85", 299, None, None, "medium"),
        ("88", 100, None, None, "medium"),
        ("80", 99, None, None, "small"),
        ("77", 10, None, None, "small"),
        ("703", 9, None, None, "micro"),
        # split divisions 59 and 70 by group
        ("591", 300, "3000", None, "medium"),  # 装卸搬运 → 交通运输业
        ("5920", 300, "3000", None, "medium"),  # 仓储 → 仓储业 (large needs 30000)
        ("5920", 200, "30000", None, "large"),
        ("591", 200, "30000", None, "small"),  # 交通运输业 needs 300 employees for medium
        ("7010", None, "1000", "5000", "medium"),
        ("701", None, "200000", "10000", "large"),
        ("702", 300, "1000", None, "medium"),
        ("702", 99, "500", None, "micro"),
        ("709", 100, None, None, "medium"),
    ],
)
def test_other_groups(
    code: str, employees: int | None, revenue: str | None, assets: str | None, expected: str
) -> None:
    result = sizes.classify(
        code, employees, None if revenue is None else D(revenue), None if assets is None else D(assets)
    )
    assert result.size_class == expected, result.rule


NOT_COVERED = {"53", "59", "66", "67", "68", "69", "70", "83", "84", *(f"{n}" for n in range(91, 98))}


def test_every_division_classifies_or_explains() -> None:
    none_divisions = set()
    for d in industries.divisions():
        result = sizes.classify(d.code, 50, D(1000), D(1000))
        assert set(result.rule) == {"zh", "en"} and result.rule["zh"] and result.rule["en"]
        if result.size_class is None:
            none_divisions.add(d.code)
            assert result.group is None
            assert d.code in result.rule["zh"] and d.code in result.rule["en"]
        else:
            assert result.group in sizes.GROUPS
    assert none_divisions == NOT_COVERED
    for d in industries.divisions():
        group = sizes.group_for(d.code)
        assert (group is None) == (d.code in NOT_COVERED)


@pytest.mark.parametrize("code", ["66", "53", "83", "84", "92", "97", "704", "7040"])
def test_uncovered_industry_explains(code: str) -> None:
    result = sizes.classify(code, 500, D(100000), D(100000))
    assert result.size_class is None and result.group is None
    assert "300号" in result.rule["zh"] and "无法" in result.rule["zh"]
    assert "No. 300" in result.rule["en"] and "no size class" in result.rule["en"]


def test_split_divisions_ask_for_group() -> None:
    for code, hint in (("59", "591"), ("70", "701")):
        result = sizes.classify(code, 100, D(1000), D(1000))
        assert result.size_class is None
        assert hint in result.rule["zh"] and hint in result.rule["en"]


def test_missing_figures() -> None:
    result = sizes.classify("13", 500, None)
    assert result.size_class is None and result.group == "industry"
    assert "营业收入" in result.rule["zh"] and "revenue" in result.rule["en"]
    result = sizes.classify("47", 500, D(10000))
    assert result.size_class is None and result.group == "construction"
    assert "资产总额" in result.rule["zh"] and "total assets" in result.rule["en"]
    result = sizes.classify("74", None, D(10000), D(1))
    assert result.size_class is None and "从业人员" in result.rule["zh"]
    # figures a group does not use are not required
    assert sizes.classify("01", None, D(600)).size_class == "medium"


def test_rule_mentions_figures_and_result() -> None:
    result = sizes.classify("13", 350, D("1500.50"))
    assert result.size_class == "small"
    assert (
        "从业人员350人" in result.rule["zh"]
        and "1500.5万元" in result.rule["zh"]
        and "小型" in result.rule["zh"]
    )
    assert "employees 350" in result.rule["en"] and "→ small" in result.rule["en"]


@pytest.mark.parametrize("code", ["98", "00", "ab", "1", "12345", "C13", "597", "705"])
def test_invalid_industry_code(code: str) -> None:
    with pytest.raises(ValueError):
        sizes.classify(code, 10, D(10))


def test_negative_figures_rejected() -> None:
    with pytest.raises(ValueError):
        sizes.classify("13", -1, D(10))
    with pytest.raises(ValueError):
        sizes.classify("13", 1, D(-10))
    with pytest.raises(ValueError):
        sizes.classify("47", None, D(10), D("-0.01"))


# ---------------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015)

# The example of the standard, and codes published by well-known firms. Each passes both the GB 11714
# check (position 17) and the GB 32100 check (position 18) independently, which a mistyped code
# does with a probability of about 1 in 341.
REAL_CODES = [
    "91350100M000100Y43",
    "91330000142916567N",
    "91440300708461136T",
    "914403001922038216",
    "91330100716105852F",
    "91110000802100433B",
]

FORBIDDEN = "IOZSV"


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_valid(code: str) -> None:
    assert credit_code.validate(code) == []
    assert credit_code.is_valid(code)
    assert credit_code.make_valid(code[:17]) == code
    assert credit_code.org_check_char(code[8:16]) == code[16]


def test_normalise() -> None:
    assert credit_code.normalise(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert credit_code.normalise("9135 0100 M000 100Y 43") == "91350100M000100Y43"
    assert credit_code.normalise("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert credit_code.validate("91350100m000100y43") == []
    assert credit_code.validate("\t9135 0100m000100Y43\n") == []


def test_org_check_char() -> None:
    assert credit_code.org_check_char("M000100Y") == "4"
    assert credit_code.org_check_char("00000000") == "0"  # 11 → "0"
    assert credit_code.org_check_char("00000006") == "X"  # 10 → "X"
    with pytest.raises(ValueError):
        credit_code.org_check_char("0000000")
    with pytest.raises(ValueError):
        credit_code.org_check_char("0000000-")


def test_wrong_length() -> None:
    problems = credit_code.validate("91350100M000100Y4")
    assert problems == [Problem("length", {"length": 17, "expected": 18})]
    assert credit_code.describe(problems[0], "zh") == "统一社会信用代码应为18位，当前为17位"
    assert (
        credit_code.describe(problems[0], "en")
        == "The unified social credit code must have 18 characters; this one has 17"
    )
    assert credit_code.validate("")[0].params["length"] == 0
    assert credit_code.validate("91350100M000100Y430")[0].params["length"] == 19


@pytest.mark.parametrize("letter", list(FORBIDDEN))
def test_forbidden_letters(letter: str) -> None:
    code = "91350100M000100Y43"
    broken = code[:10] + letter + code[11:]
    assert credit_code.validate(broken) == [Problem("charset", {"chars": letter})]
    assert letter in credit_code.describe(credit_code.validate(broken)[0], "zh")


def test_charset_and_length_together() -> None:
    problems = credit_code.validate("91350100-M00O100Y4")
    assert [p.code for p in problems] == ["charset"]
    assert problems[0].params == {"chars": "-O"}
    problems = credit_code.validate("9135O100I")
    assert [p.code for p in problems] == ["length", "charset"]
    assert problems[1].params == {"chars": "OI"}
    assert credit_code.describe(problems[1], "en").startswith(
        "The code contains characters that are not allowed: O, I"
    )
    assert "O、I" in credit_code.describe(problems[1], "zh")


def test_wrong_check_char() -> None:
    problems = credit_code.validate("91350100M000100Y45")
    assert problems == [Problem("check_char", {"expected": "3", "found": "5", "position": 18})]
    assert credit_code.describe(problems[0], "zh") == "第18位校验码应为 3，而不是 5"
    assert credit_code.describe(problems[0], "en") == "The check character (18th) should be 3, not 5"


def test_changed_body_char() -> None:
    code = "91330000142916567N"
    broken = code[:10] + "3" + code[11:]  # 12 → 13 in the organisation code
    keys = [p.code for p in credit_code.validate(broken)]
    assert keys == ["org_code_check", "check_char"]
    check = credit_code.validate(broken)[1]
    assert check.params["found"] == "N" and check.params["position"] == 18


def test_transposition() -> None:
    code = "91440300708461136T"
    broken = code[:9] + code[10] + code[9] + code[11:]  # "70" → "07"
    assert broken != code
    assert "check_char" in [p.code for p in credit_code.validate(broken)]


def test_registration_authority_and_region() -> None:
    body = "M000100Y4"
    bad_authority = credit_code.make_valid("B1350100" + body)
    assert credit_code.validate(bad_authority) == [
        Problem("registration_authority", {"found": "B", "position": 1})
    ]
    assert "B" in credit_code.describe(credit_code.validate(bad_authority)[0], "en")
    for authority in credit_code.REGISTRATION_AUTHORITIES:
        assert credit_code.is_valid(credit_code.make_valid(authority + "1350100" + body))
    bad_region = credit_code.make_valid("9135A100" + body)
    assert credit_code.validate(bad_region) == [Problem("region_code", {"found": "35A100", "position": 3})]
    assert "35A100" in credit_code.describe(credit_code.validate(bad_region)[0], "zh")


def test_org_code_check_only() -> None:
    code = credit_code.make_valid("91350100M000100Y5")  # GB 32100 check right, GB 11714 wrong
    assert credit_code.validate(code) == [
        Problem("org_code_check", {"expected": "4", "found": "5", "position": 17})
    ]
    assert credit_code.describe(credit_code.validate(code)[0], "zh").endswith("应为 4，而不是 5")
    assert "should be 4, not 5" in credit_code.describe(credit_code.validate(code)[0], "en")


def test_describe_every_key_both_languages() -> None:
    samples = [
        Problem("length", {"length": 17, "expected": 18}),
        Problem("charset", {"chars": "IO"}),
        Problem("registration_authority", {"found": "B", "position": 1}),
        Problem("region_code", {"found": "35A100", "position": 3}),
        Problem("org_code_check", {"expected": "4", "found": "5", "position": 17}),
        Problem("check_char", {"expected": "Q", "found": "5", "position": 18}),
        Problem("something_new"),
    ]
    for p in samples:
        zh = credit_code.describe(p, "zh")
        en = credit_code.describe(p, "en")
        assert zh and en and zh != en
        assert en.isascii() or "–" in en


def test_make_valid_rejects_bad_prefix() -> None:
    with pytest.raises(ValueError):
        credit_code.make_valid("91350100M000100Y")
    with pytest.raises(ValueError):
        credit_code.make_valid("91350100M000100I4")
    assert credit_code.make_valid("91350100m000100y4") == "91350100M000100Y43"


def test_generate_examples() -> None:
    rng = random.Random(2024)
    code = credit_code.generate(rng, "330106")
    assert code.startswith("91330106") and len(code) == 18
    assert credit_code.validate(code) == []
    assert credit_code.generate(random.Random(7), "330106") == credit_code.generate(
        random.Random(7), "330106"
    )
    with pytest.raises(ValueError):
        credit_code.generate(rng, "33010")
    with pytest.raises(ValueError):
        credit_code.generate(rng, "33010A")


REGION_CODES = [r.code for r in regions.all_regions()]


@given(seed=st.integers(min_value=0, max_value=2**64), region=st.sampled_from(REGION_CODES))
def test_generate_always_valid(seed: int, region: str) -> None:
    code = credit_code.generate(random.Random(seed), region)
    assert credit_code.validate(code) == []
    assert code[2:8] == region and code[:2] == "91"


@given(
    seed=st.integers(min_value=0, max_value=2**64),
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(CHARSET + FORBIDDEN),
)
def test_single_substitution_detected(seed: int, position: int, replacement: str) -> None:
    code = credit_code.generate(random.Random(seed), "330106")
    if code[position] == replacement:
        return
    broken = code[:position] + replacement + code[position + 1 :]
    problems = credit_code.validate(broken)
    assert problems
    if replacement in FORBIDDEN:
        assert [p.code for p in problems] == ["charset"]
    else:
        assert "check_char" in [p.code for p in problems]


@given(seed=st.integers(min_value=0, max_value=2**64), position=st.integers(min_value=0, max_value=15))
def test_adjacent_transposition_detected(seed: int, position: int) -> None:
    code = credit_code.generate(random.Random(seed), "330106")
    a, b = code[position], code[position + 1]
    if a == b:
        return
    broken = code[:position] + b + a + code[position + 2 :]
    assert "check_char" in [p.code for p in credit_code.validate(broken)]
