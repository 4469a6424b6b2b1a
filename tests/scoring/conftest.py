"""Fixtures of the scoring tests: a small hand-built framework that uses every rule of the engine."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (_HERE.parent.parent, _HERE):  # the repository (for `scoring`) and this folder (for helpers)
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from scoring.model import (  # noqa: E402
    AnswerType,
    Band,
    Condition,
    Effort,
    Framework,
    Gate,
    Item,
    Level,
    Mode,
    Op,
    Option,
    Scale,
    Section,
    Source,
    Target,
    Text,
)

AS_OF = datetime.date(2026, 11, 22)


def t(s: str) -> Text:
    return Text(zh=f"中文：{s}", en=s)


def item(iid: str, kind: AnswerType, points: int | str, **kw: object) -> Item:
    return Item(
        id=iid,
        text=t(f"question {iid}"),
        help=t(f"help {iid}"),
        action=t(f"improve {iid}"),
        answer_type=kind,
        max_points=Decimal(points),
        sources=(Source(doc="seed.txt", quote=f"原文 {iid}"),),
        **kw,  # type: ignore[arg-type]
    )


def build_mini() -> Framework:
    """70 points: basic (30) + practice (40). Gates: no-incident (item), years (profile)."""
    four = Scale(
        "four",
        t("four-step"),
        (
            Level("none", Decimal(0), t("none")),
            Level("some", Decimal(50), t("some")),
            Level("full", Decimal(100), t("full")),
        ),
    )
    adli = Scale(
        "adli",
        t("ADLI"),
        (
            Level("0", Decimal(0), t("0-5%")),
            Level("30", Decimal(30), t("30-45%")),
            Level("60", Decimal(60), t("50-65%")),
            Level("100", Decimal(100), t("90-100%")),
        ),
    )
    basic = Section(
        "basic",
        t("Basic"),
        (
            item(
                "b-iso",
                AnswerType.YES_NO,
                10,
                evidence=t("certificate"),
                evidence_required=True,
                effort=Effort.LOW,
            ),
            item(
                "b-std",
                AnswerType.CHOICE,
                10,
                options=(
                    Option("published", t("published"), Decimal(10)),
                    Option("drafting", t("drafting"), Decimal(5)),
                    Option("none", t("none"), Decimal(0)),
                ),
                effort=Effort.MEDIUM,
            ),
            item(
                "b-rate",
                AnswerType.PERCENT,
                10,
                bands=(
                    Band(None, Decimal(30), Decimal(0)),
                    Band(Decimal(30), Decimal(65), Decimal(5)),
                    Band(Decimal(65), None, Decimal(10)),
                ),
                evidence=t("report"),
                effort=Effort.HIGH,
            ),
            item("b-incident", AnswerType.YES_NO, 0, gate=True, allow_na=False, effort=Effort.LOW),
        ),
    )
    practice = Section(
        "practice",
        t("Practice"),
        (
            item("p-lead", AnswerType.SCALE, 20, scales=(("quick", "four"), ("full", "adli"))),
            item(
                "p-patents",
                AnswerType.NUMBER,
                8,
                bands=(
                    Band(None, Decimal(1), Decimal(0)),
                    Band(Decimal(1), Decimal(5), Decimal(4)),
                    Band(Decimal(5), None, Decimal(8)),
                ),
                min_value=Decimal(0),
                max_value=Decimal(1000),
                effort=Effort.HIGH,
            ),
            item(
                "p-since",
                AnswerType.DATE,
                6,
                bands=(Band(None, Decimal(3), Decimal(0)), Band(Decimal(3), None, Decimal(6))),
                applies_if=(Condition(Op.EQ, True, profile="is_manufacturing"),),
                effort=Effort.LOW,
            ),
            item(
                "p-export",
                AnswerType.YES_NO,
                6,
                applies_if=(Condition(Op.IN, ["published", "drafting"], item="b-std"),),
                effort=Effort.LOW,
            ),
            item("p-notes", AnswerType.TEXT, 0, required=False),
        ),
    )
    return Framework(
        id="mini",
        version="1.0.0",
        title=t("Mini"),
        description=t("A small framework for tests"),
        sections=(basic, practice),
        gates=(
            Gate(
                "no-incident",
                Condition(Op.EQ, False, item="b-incident"),
                t("no major incident"),
                (Source(standard="rule 1"),),
            ),
            Gate(
                "years", Condition(Op.GTE, 5, profile="years_operating"), t("5 years"), (Source(doc="d.txt"),)
            ),
        ),
        targets=(
            Target("cert", t("Certification"), ("no-incident",), Decimal(70)),
            Target("award", t("Award"), ("no-incident", "years"), Decimal(85)),
        ),
        scales=(four, adli),
        modes=(Mode("quick", t("Quick")), Mode("full", t("Full"))),
    )


@pytest.fixture(scope="session")
def mini() -> Framework:
    return build_mini()


FULL_ANSWERS: dict[str, object] = {
    "b-iso": True,
    "b-std": "published",
    "b-rate": 80,
    "b-incident": False,
    "p-lead": "full",
    "p-patents": 7,
    "p-since": "2020-01-01",
    "p-export": True,
    "p-notes": "we are great",
}
FULL_PROFILE: dict[str, object] = {"is_manufacturing": True, "years_operating": 10}
