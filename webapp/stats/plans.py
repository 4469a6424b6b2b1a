"""The plans' numeric firm-level targets that QReady's results can speak to.

Each figure quotes its plan verbatim (a test checks the quote is in the seed file) and says how it
is measured among the firms assessed in QReady: the firms whose newest result of `framework` passes
every gate of `gates`, among the firms of `population` with a result of that framework. It is never
the whole region's figure: firms not on QReady, or not sharing, are not in it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from scoring.model import region_prefix


@dataclass(frozen=True)
class PlanFigure:
    id: str
    doc: str  # the seed file (/work/shared/seeds, cited by the frameworks alike)
    quote: str  # verbatim from the seed
    region: str  # the GB/T 2260 prefix the plan covers ("33" Zhejiang, "3301" Hangzhou, "3306" Shaoxing)
    year: int  # the year the value is for
    kind: str  # "share": a percentage of the population | "count": a number of firms
    value: Decimal
    reached: bool  # the plan reports the value as reached (a baseline), not as a target
    framework: str
    gates: tuple[str, ...]  # a firm counts when its newest result passes all of them
    population: str  # "all" | "sme" (small, medium, micro) | "above_scale" | "certified" (holds 品字标)
    label: object  # what is counted, lazily translated

    def covers(self, jurisdiction: str) -> bool:
        """The plan's region and the jurisdiction overlap."""
        mine = region_prefix(jurisdiction)
        return mine.startswith(self.region) or self.region.startswith(mine)

    def scope(self, jurisdiction: str) -> str:
        """The region prefix the figure is computed over: the smaller of the two regions."""
        mine = region_prefix(jurisdiction)
        return mine if len(mine) >= len(self.region) else self.region


FIGURES = (
    PlanFigure(
        "cqo-sme-80",
        "001_4363bfba873e2d09.txt",
        "重点行业中小微企业首席质量官聘任率达 80%以上",
        "3301",
        2025,
        "share",
        Decimal(80),
        False,
        "chief-quality-officer",
        ("has-cqo",),
        "sme",
        _l("Small, medium and micro firms that have appointed a chief quality officer"),
    ),
    PlanFigure(
        "adoption-65",
        "003_6ee584acb5d75e9f.txt",
        "规模以上工业企业主导产品采标率达到65％以上",
        "33",
        2020,
        "share",
        Decimal(65),
        False,
        "standards-adoption",
        ("adoption-65",),
        "above_scale",
        _l("Above-scale firms whose main products' standards adoption rate is 65%% or more"),
    ),
    PlanFigure(
        "pe-5000",
        "003_6ee584acb5d75e9f.txt",
        "推进5000家企业导入卓越绩效管理模式",
        "33",
        2020,
        "count",
        Decimal(5000),
        False,
        "performance-excellence",
        ("pe-in-use",),
        "all",
        _l("Firms that have adopted the performance excellence model"),
    ),
    PlanFigure(
        "pe-522",
        "004_ff91c7a900d110f5.txt",
        "522家企业导入卓越绩效模式",
        "3306",
        2020,
        "count",
        Decimal(522),
        True,
        "performance-excellence",
        ("pe-in-use",),
        "all",
        _l("Firms that have adopted the performance excellence model"),
    ),
    PlanFigure(
        "pzb-2500",
        "000_de1cf0e88028c599.txt",
        "到2025年，培育“品字标”品牌企业2500家",
        "33",
        2025,
        "count",
        Decimal(2500),
        False,
        "labelling-four-100",
        ("holds-certificate",),
        "all",
        _l("Firms holding a 品字标 “Made in Zhejiang” certificate"),
    ),
    PlanFigure(
        "pzb-400",
        "001_4363bfba873e2d09.txt",
        "培育“品字标”企业累计达到400家",
        "3301",
        2025,
        "count",
        Decimal(400),
        False,
        "labelling-four-100",
        ("holds-certificate",),
        "all",
        _l("Firms holding a 品字标 “Made in Zhejiang” certificate"),
    ),
    PlanFigure(
        "four-100-hz",
        "001_4363bfba873e2d09.txt",
        "全面推动“品字标浙江制造”企业贴标亮标“四个百分百”",
        "3301",
        2025,
        "share",
        Decimal(100),
        False,
        "labelling-four-100",
        ("commitment-100", "labelled-100", "displayed-100", "advertising-100"),
        "certified",
        _l("品字标 certificate holders meeting all of the “four 100%%”"),
    ),
    PlanFigure(
        "four-100-sx",
        "004_ff91c7a900d110f5.txt",
        "全面实现贴标亮标“四个百分百”",
        "3306",
        2025,
        "share",
        Decimal(100),
        False,
        "labelling-four-100",
        ("commitment-100", "labelled-100", "displayed-100", "advertising-100"),
        "certified",
        _l("品字标 certificate holders meeting all of the “four 100%%”"),
    ),
)


def figures_for(jurisdiction: str) -> list[PlanFigure]:
    return [f for f in FIGURES if f.covers(jurisdiction)]
