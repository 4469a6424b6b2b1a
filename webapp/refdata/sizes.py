"""Enterprise size class (大型/中型/小型/微型) by industry.

Sources:

* 工信部联企业〔2011〕300号《中小企业划型标准规定》: the thresholds of medium, small and micro
  enterprises for 16 industry groups, and the upper bounds below which a firm is an SME;
* 国家统计局《统计上大中小微型企业划分办法（2017）》: the same thresholds restated on
  GB/T 4754-2017 codes, with explicit large-enterprise thresholds and the industry scope notes used
  for the mapping below.

Rule (办法 2017, 说明 1): large, medium and small enterprises must reach the lower bound of every
indicator of their group, otherwise they drop one class ("须同时满足所列指标的下限，否则下划一档");
a micro enterprise needs to fall below only one indicator. So the class is the highest one whose
bounds are all met, and micro otherwise.

Indicators: 从业人员 employees (persons), 营业收入 revenue and 资产总额 total assets, both in 万元
(10,000 CNY).

Mapping from GB/T 4754-2017 (办法 2017 notes): 工业 = B, C, D; 交通运输业 = 54–58 and 591 装卸搬运,
not 53 铁路运输业; 仓储业 = 592–599; 信息传输业 = 63, 64; 房地产开发经营 = 701; 物业管理 = 702;
其他未列明行业 = M, N, O, 85 社会工作, R, and 703 房地产中介服务, 709 其他房地产业 (not 704, the former
自有房地产经营活动). Not covered: 53, J (66–69), 704, P (83), 84 卫生, S (91–96), T (97). Divisions
59 and 70 span several groups: pass a three- or four-digit code (e.g. "592", "7010") for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from . import industries

SizeClass = Literal["large", "medium", "small", "micro"]
BoundedClass = Literal["large", "medium", "small"]
_BOUNDED: tuple[BoundedClass, ...] = ("large", "medium", "small")
Indicator = Literal["employees", "revenue", "assets"]

SIZE_NAMES: dict[SizeClass, tuple[str, str]] = {
    "large": ("大型", "large"),
    "medium": ("中型", "medium"),
    "small": ("小型", "small"),
    "micro": ("微型", "micro"),
}

_SOURCE_ZH = (
    "依据工信部联企业〔2011〕300号《中小企业划型标准规定》，"
    "大型企业标准依据《统计上大中小微型企业划分办法（2017）》"
)
_SOURCE_EN = (
    "per MIIT et al. rule No. 300 (2011) on SME classification, with the large-enterprise thresholds of "
    "the NBS statistical size classification (2017)"
)


BilingualText = dict[str, str]
"""{"zh": …, "en": …}"""


@dataclass(frozen=True)
class Threshold:
    """Lower bounds of one indicator for the large, medium and small classes."""

    indicator: Indicator
    large: int
    medium: int
    small: int

    def bound(self, size_class: BoundedClass) -> int:
        match size_class:
            case "large":
                return self.large
            case "medium":
                return self.medium
            case "small":
                return self.small


@dataclass(frozen=True)
class IndustryGroup:
    key: str
    name_zh: str
    name_en: str
    scope_zh: str
    scope_en: str
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class SizeResult:
    """`size_class` is None when no rule applies or a required figure is missing; `rule` says why."""

    size_class: SizeClass | None
    rule: BilingualText
    group: str | None = None  # key of the IndustryGroup used, None when none applies


def _t(indicator: Indicator, large: int, medium: int, small: int) -> Threshold:
    return Threshold(indicator, large, medium, small)


_GROUP_LIST: tuple[IndustryGroup, ...] = (
    IndustryGroup(
        "agriculture",
        "农、林、牧、渔业",
        "agriculture, forestry, animal husbandry and fishery",
        "A，01–05",
        "section A, 01–05",
        (_t("revenue", 20000, 500, 50),),
    ),
    IndustryGroup(
        "industry",
        "工业",
        "industry",
        "B 采矿业，C 制造业，D 电力、热力、燃气及水生产和供应业，06–46",
        "B mining, C manufacturing, D production and supply of electricity, heat, gas and water; 06–46",
        (_t("employees", 1000, 300, 20), _t("revenue", 40000, 2000, 300)),
    ),
    IndustryGroup(
        "construction",
        "建筑业",
        "construction",
        "E，47–50",
        "section E, 47–50",
        (_t("revenue", 80000, 6000, 300), _t("assets", 80000, 5000, 300)),
    ),
    IndustryGroup(
        "wholesale",
        "批发业",
        "wholesale trade",
        "51",
        "51",
        (_t("employees", 200, 20, 5), _t("revenue", 40000, 5000, 1000)),
    ),
    IndustryGroup(
        "retail",
        "零售业",
        "retail trade",
        "52",
        "52",
        (_t("employees", 300, 50, 10), _t("revenue", 20000, 500, 100)),
    ),
    IndustryGroup(
        "transport",
        "交通运输业",
        "transport",
        "54–58、591 装卸搬运，不含53铁路运输业",
        "54–58 and 591 loading and unloading, not 53 rail transport",
        (_t("employees", 1000, 300, 20), _t("revenue", 30000, 3000, 200)),
    ),
    IndustryGroup(
        "warehousing",
        "仓储业",
        "warehousing",
        "592–599",
        "592–599",
        (_t("employees", 200, 100, 20), _t("revenue", 30000, 1000, 100)),
    ),
    IndustryGroup(
        "postal",
        "邮政业",
        "postal services",
        "60",
        "60",
        (_t("employees", 1000, 300, 20), _t("revenue", 30000, 2000, 100)),
    ),
    IndustryGroup(
        "accommodation",
        "住宿业",
        "accommodation",
        "61",
        "61",
        (_t("employees", 300, 100, 10), _t("revenue", 10000, 2000, 100)),
    ),
    IndustryGroup(
        "catering",
        "餐饮业",
        "catering",
        "62",
        "62",
        (_t("employees", 300, 100, 10), _t("revenue", 10000, 2000, 100)),
    ),
    IndustryGroup(
        "information_transmission",
        "信息传输业",
        "information transmission",
        "63 电信、广播电视和卫星传输服务，64 互联网和相关服务",
        "63 telecommunications, broadcasting and satellite transmission; 64 internet and related services",
        (_t("employees", 2000, 100, 10), _t("revenue", 100000, 1000, 100)),
    ),
    IndustryGroup(
        "software_it",
        "软件和信息技术服务业",
        "software and information technology services",
        "65",
        "65",
        (_t("employees", 300, 100, 10), _t("revenue", 10000, 1000, 50)),
    ),
    IndustryGroup(
        "real_estate_development",
        "房地产开发经营",
        "real estate development",
        "701",
        "701",
        (_t("revenue", 200000, 1000, 100), _t("assets", 10000, 5000, 2000)),
    ),
    IndustryGroup(
        "property_management",
        "物业管理",
        "property management",
        "702",
        "702",
        (_t("employees", 1000, 300, 100), _t("revenue", 5000, 1000, 500)),
    ),
    IndustryGroup(
        "leasing_business",
        "租赁和商务服务业",
        "leasing and business services",
        "L，71–72",
        "section L, 71–72",
        (_t("employees", 300, 100, 10), _t("assets", 120000, 8000, 100)),
    ),
    IndustryGroup(
        "other",
        "其他未列明行业",
        "other industries not listed",
        "M、N、O、R，85 社会工作，703 房地产中介服务，709 其他房地产业",
        "sections M, N, O, R, 85 social work, 703 real estate agency, 709 other real estate",
        (_t("employees", 300, 100, 10),),
    ),
)

GROUPS: dict[str, IndustryGroup] = {g.key: g for g in _GROUP_LIST}


def _division_groups() -> dict[str, str]:
    out: dict[str, str] = {}

    def span(first: int, last: int, key: str) -> None:
        for n in range(first, last + 1):
            out[f"{n:02d}"] = key

    span(1, 5, "agriculture")
    span(6, 46, "industry")
    span(47, 50, "construction")
    span(51, 51, "wholesale")
    span(52, 52, "retail")
    span(54, 58, "transport")
    span(60, 60, "postal")
    span(61, 61, "accommodation")
    span(62, 62, "catering")
    span(63, 64, "information_transmission")
    span(65, 65, "software_it")
    span(71, 72, "leasing_business")
    span(73, 82, "other")
    span(85, 85, "other")
    span(86, 90, "other")
    return out


_DIVISION_GROUP = _division_groups()

# Divisions whose GB/T 4754-2017 groups (中类) fall into different size rules.
_GROUP_LEVEL: dict[str, dict[str, str | None]] = {
    "59": {
        "591": "transport",
        "592": "warehousing",
        "593": "warehousing",
        "594": "warehousing",
        "595": "warehousing",
        "596": "warehousing",
        "599": "warehousing",
    },
    "70": {
        "701": "real_estate_development",
        "702": "property_management",
        "703": "other",
        "704": None,
        "709": "other",
    },
}

_SPLIT_HINT: dict[str, BilingualText] = {
    "59": {
        "zh": "行业大类59“装卸搬运和仓储业”分属两个划型行业：591 装卸搬运按交通运输业，592–599 仓储按仓储业。"
        "请提供行业中类代码（三位）。",
        "en": "Division 59 (loading, unloading and warehousing) spans two size rules: 591 loading and "
        "unloading follows transport, 592–599 warehousing follows warehousing. Give the three-digit "
        "group code.",
    },
    "70": {
        "zh": "行业大类70“房地产业”分属不同划型行业：701 房地产开发经营，702 物业管理，703 房地产中介服务和 "
        "709 其他房地产业按其他未列明行业，704 房地产租赁经营未列入划型标准。请提供行业中类代码（三位）。",
        "en": "Division 70 (real estate) spans several size rules: 701 real estate development, 702 property "
        "management, 703 agency and 709 other real estate follow 'other industries', and 704 leasing of "
        "real estate is not covered. Give the three-digit group code.",
    },
}

_INDICATOR_ZH: dict[Indicator, tuple[str, str]] = {
    "employees": ("从业人员", "人"),
    "revenue": ("营业收入", "万元"),
    "assets": ("资产总额", "万元"),
}
_INDICATOR_EN: dict[Indicator, tuple[str, str]] = {
    "employees": ("employees", ""),
    "revenue": ("revenue", " (10k CNY)"),
    "assets": ("total assets", " (10k CNY)"),
}


def _fmt(value: Decimal | int) -> str:
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f")


def _bounds_zh(group: IndustryGroup, level: BoundedClass) -> str:
    parts = []
    for t in group.thresholds:
        label, unit = _INDICATOR_ZH[t.indicator]
        parts.append(f"{label}≥{t.bound(level)}{unit}")
    return "且".join(parts)


def _bounds_en(group: IndustryGroup, level: BoundedClass) -> str:
    parts = []
    for t in group.thresholds:
        label, unit = _INDICATOR_EN[t.indicator]
        parts.append(f"{label} ≥ {t.bound(level)}{unit}")
    return " and ".join(parts)


def describe_group(group: IndustryGroup) -> BilingualText:
    """The thresholds of a group as a bilingual sentence."""
    if len(group.thresholds) == 1:
        micro_zh = "其余为微型"
        micro_en = "otherwise micro"
    else:
        micro_zh = "任一指标低于小型下限为微型"
        micro_en = "micro when any indicator is below the small bound"
    zh = (
        f"{group.name_zh}（{group.scope_zh}）：大型 {_bounds_zh(group, 'large')}；"
        f"中型 {_bounds_zh(group, 'medium')}；小型 {_bounds_zh(group, 'small')}；{micro_zh}。"
        f"{_SOURCE_ZH}。"
    )
    title_en = group.name_en[0].upper() + group.name_en[1:]
    en = (
        f"{title_en} ({group.scope_en}): large {_bounds_en(group, 'large')}; "
        f"medium {_bounds_en(group, 'medium')}; small {_bounds_en(group, 'small')}; {micro_en}; "
        f"{_SOURCE_EN}."
    )
    return {"zh": zh, "en": en}


def _normalise_code(division_code: str) -> str:
    code = division_code.strip()
    if not (2 <= len(code) <= 4 and code.isdigit()):
        raise ValueError(f"an industry code is 2 to 4 digits (GB/T 4754-2017), not {division_code!r}")
    if industries.division(code[:2]) is None:
        raise ValueError(f"unknown GB/T 4754-2017 division {code[:2]!r}")
    return code


def group_for(division_code: str) -> IndustryGroup | None:
    """The size-rule group of a GB/T 4754-2017 code (two to four digits), or None if none applies.

    Divisions 59 and 70 need a three- or four-digit code; with two digits they give None.
    ValueError for a malformed code, an unknown division, or an unknown group of 59 or 70.
    """
    code = _normalise_code(division_code)
    return _lookup(code)[0]


def _lookup(code: str) -> tuple[IndustryGroup | None, BilingualText | None]:
    """The group of a normalised code, or None with the reason when no group applies."""
    div = code[:2]
    if div in _GROUP_LEVEL:
        if len(code) == 2:
            return None, _SPLIT_HINT[div]
        groups = _GROUP_LEVEL[div]
        if code[:3] not in groups:
            raise ValueError(f"unknown GB/T 4754-2017 group {code[:3]!r}")
        key = groups[code[:3]]
        return (None, _not_covered(code)) if key is None else (GROUPS[key], None)
    key2 = _DIVISION_GROUP.get(div)
    return (None, _not_covered(code)) if key2 is None else (GROUPS[key2], None)


def _not_covered(code: str) -> BilingualText:
    div = industries.division(code[:2])
    assert div is not None
    if code[:3] == "704":
        label_zh, label_en = "房地产租赁经营", "Real Estate Leasing"
    else:
        label_zh, label_en = div.name_zh, div.name_en
    return {
        "zh": "《中小企业划型标准规定》（工信部联企业〔2011〕300号）和"
        f"《统计上大中小微型企业划分办法（2017）》未规定“{label_zh}”（{code}）的划型标准，无法按规则划分企业规模。",
        "en": f"Neither MIIT rule No. 300 (2011) nor the NBS size classification (2017) sets thresholds for "
        f"{label_en} ({code}); no size class can be computed.",
    }


def classify(
    division_code: str,
    employees: int | None,
    revenue_10k_cny: Decimal | None,
    total_assets_10k_cny: Decimal | None = None,
) -> SizeResult:
    """The size class of a firm.

    `division_code` is a GB/T 4754-2017 division (two digits) or a longer group/class code (needed for
    59 and 70). `employees` is 从业人员 (persons), `revenue_10k_cny` 营业收入 and
    `total_assets_10k_cny` 资产总额, both in 万元. Only the figures the group uses are required; any
    missing one gives `size_class` None. ValueError for a malformed or unknown code or a negative figure.
    """
    code = _normalise_code(division_code)
    values: dict[Indicator, Decimal | int | None] = {
        "employees": employees,
        "revenue": revenue_10k_cny,
        "assets": total_assets_10k_cny,
    }
    for indicator, value in values.items():
        if value is not None and value < 0:
            raise ValueError(f"{indicator} must not be negative, got {value}")

    group, reason = _lookup(code)
    if group is None:
        assert reason is not None
        return SizeResult(None, reason, None)

    text = describe_group(group)
    missing = [t.indicator for t in group.thresholds if values[t.indicator] is None]
    if missing:
        zh_missing = "、".join(_INDICATOR_ZH[i][0] for i in missing)
        en_missing = ", ".join(_INDICATOR_EN[i][0] for i in missing)
        return SizeResult(
            None,
            {
                "zh": f"缺少{zh_missing}，无法划型。{text['zh']}",
                "en": f"Missing {en_missing}; cannot classify. {text['en']}",
            },
            group.key,
        )

    size: SizeClass = "micro"
    for level in _BOUNDED:
        if all(_at_least(values[t.indicator], t.bound(level)) for t in group.thresholds):
            size = level
            break

    figures_zh = "，".join(
        f"{_INDICATOR_ZH[t.indicator][0]}{_fmt(_known(values[t.indicator]))}{_INDICATOR_ZH[t.indicator][1]}"
        for t in group.thresholds
    )
    figures_en = ", ".join(
        f"{_INDICATOR_EN[t.indicator][0]} {_fmt(_known(values[t.indicator]))}{_INDICATOR_EN[t.indicator][1]}"
        for t in group.thresholds
    )
    size_zh, size_en = SIZE_NAMES[size]
    return SizeResult(
        size,
        {
            "zh": f"{figures_zh} → {size_zh}。{text['zh']}",
            "en": f"{figures_en} → {size_en}. {text['en']}",
        },
        group.key,
    )


def _known(value: Decimal | int | None) -> Decimal | int:
    assert value is not None
    return value


def _at_least(value: Decimal | int | None, bound: int) -> bool:
    return value is not None and value >= bound


__all__ = [
    "GROUPS",
    "SIZE_NAMES",
    "BilingualText",
    "IndustryGroup",
    "SizeClass",
    "SizeResult",
    "Threshold",
    "classify",
    "describe_group",
    "group_for",
]
