"""The statistics' counts, added up ahead of the page (`StatsCount`, the table `stats_counts`).

Every figure the dashboard shows is a number of distinct sharing firms (and, for an average, a sum
and how many it holds) per figure row and per *cell*: a region prefix (the province "33", a city
"3301", a county "330106") alone, or with one cut inside it — an industry section, a size class, 规上,
a city (the province's cut) or a county (a city's cut). A jurisdiction's page reads the cells of its
own prefix (and of the plans' smaller regions): one indexed statement, however many firms there are.

The cells are defined once, in SQL (`_cells`), over the kept results (`AssessmentResult` and its
lines). `rebuild` writes them for every sharing firm (`flask rescore`, the demo, the bench). The
same statement for one firm gives that firm's part of every count — a firm counts once per cell
whatever its number of results — so a change to a firm (a submission, its consent, its deletion) is
kept by `firm_changing`: the firm's cells before, the change, its cells after, and the difference
added to the counts in the same transaction. The firm's row is locked meanwhile (FOR NO KEY UPDATE,
which other rows' foreign keys to it do not wait for), so two changes to one firm never count from
the same "before"; the counts are updated in one order (sorted), so two firms' updates cannot
deadlock each other."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)

from webapp import db, tenancy
from webapp.models import AssessmentResult, AssessmentResultLine, Firm, StatsCount
from webapp.stats import plans

C = StatsCount.__table__
R = AssessmentResult.__table__
L = AssessmentResultLine.__table__
F = Firm.__table__

KEYS = ("k1", "k2", "k3", "k4")
ATTRS = ("region_code", "city_code", "industry_section", "size_class", "above_scale")
# the cells counted for every figure row: (length of the region prefix, cut)
CUTS = (
    (2, "all"),
    (2, "industry"),
    (2, "size"),
    (2, "scale"),
    (2, "city"),
    (4, "all"),
    (4, "industry"),
    (4, "size"),
    (4, "scale"),
    (4, "city"),
    (4, "county"),
    (6, "all"),
    (6, "industry"),
    (6, "size"),
    (6, "scale"),
)
READINESS = ("ready", "near", "not_ready", "worth_full_evaluation", "not_yet")

Key = tuple[str, ...]  # (region, figure, k1, k2, k3, k4, dim, value)
Sums = tuple[int, int, Decimal, int]  # firms, assessments, total, scored


def _s(text: str) -> Any:
    return literal_column(f"'{text}'", String)


def _passes(gates: tuple[str, ...], firm_id: Any) -> Any:
    """The condition that the kept result passes every one of `gates`: for every firm, the results in
    the grouped list of those that do; for one firm, counted per result (its few results' lines, by
    their index, rather than every firm's lines of those gates)."""
    passed = (L.c.kind == "gate", L.c.key.in_(gates), L.c.status == "pass")
    if firm_id is not None:
        n = select(func.count()).where(L.c.assessment_id == R.c.assessment_id, *passed).scalar_subquery()
        return n == len(gates)
    q = select(L.c.assessment_id).where(*passed).group_by(L.c.assessment_id)
    return R.c.assessment_id.in_(q.having(func.count() == len(gates)))


def _sources(firm_id: Any) -> Any:
    """One row per thing counted — (figure, k1–k4, firm, percent, the result's place and kind) — for
    every figure: all the kept results (overview, quarters, trend) or the newest of each firm,
    framework and mode with their lines (readiness, sections, gaps, gates, plans)."""
    pct_none = cast(null(), Numeric(7, 2))
    attrs = [R.c[a] for a in ATTRS]

    def q(figure: str, keys: list[Any], pct: Any, *, lines: bool, latest: bool) -> Select[Any]:
        keys = keys + [_s("")] * (4 - len(keys))
        src = R.join(L, L.c.assessment_id == R.c.assessment_id) if lines else R
        if firm_id is None:
            src = src.join(F, F.c.id == R.c.firm_id)
        s = select(
            _s(figure).label("figure"), *[k.label(n) for k, n in zip(keys, KEYS, strict=True)], R.c.firm_id
        )
        s = s.add_columns(pct.label("pct"), *attrs).select_from(src)
        s = s.where(F.c.share_statistics.is_(True)) if firm_id is None else s.where(R.c.firm_id == firm_id)
        return s.where(R.c.latest.is_(True)) if latest else s

    parts = [
        q("overview", [], pct_none, lines=False, latest=False),
        q("quarters", [R.c.quarter], pct_none, lines=False, latest=False),
        q("trend", [R.c.quarter, R.c.framework_id, R.c.mode], R.c.percent, lines=False, latest=False),
        q(
            "readiness",
            [R.c.framework_id, R.c.mode, L.c.key, L.c.status],
            pct_none,
            lines=True,
            latest=True,
        ).where(L.c.kind == "target", L.c.status.in_(READINESS)),
        q("sections", [R.c.framework_id, R.c.mode, L.c.key], L.c.percent, lines=True, latest=True).where(
            L.c.kind == "section", L.c.percent.is_not(None)
        ),
        q("gaps", [R.c.framework_id, L.c.key], pct_none, lines=True, latest=True).where(L.c.kind == "gap"),
        q("gates", [R.c.framework_id, L.c.key], pct_none, lines=True, latest=True).where(
            L.c.kind == "gate", L.c.status == "fail"
        ),
    ]
    for fig in plans.FIGURES:
        for col in ("_n", "yes"):
            p = q("plans", [_s(fig.id), _s(col)], pct_none, lines=False, latest=True)
            p = p.where(R.c.framework_id == fig.framework)
            if fig.population == "sme":
                p = p.where(R.c.size_class.in_(("medium", "small", "micro")))
            elif fig.population == "above_scale":
                p = p.where(R.c.above_scale.is_(True))
            elif fig.population == "certified":
                p = p.where(_passes(("holds-certificate",), firm_id))
            if col == "yes":
                p = p.where(_passes(fig.gates, firm_id))
            parts.append(p)
    return union_all(*parts).subquery("src")


def _cut_table() -> Any:
    rows = [select(literal_column(str(n)).label("n"), _s(dim).label("dim")) for n, dim in CUTS]
    return union_all(*rows).subquery("cut")


def _expand(sub: Any, firms: Any, where: Any) -> Select[Any]:
    """Each row of `sub` (figure, keys, the result's place and kind, measures) in each of its cells,
    added up per cell; `firms` counts the firms from the expanded rows."""
    cut = _cut_table()
    value = case(
        (cut.c.dim == _s("industry"), func.coalesce(sub.c.industry_section, _s("?"))),
        (cut.c.dim == _s("size"), func.coalesce(sub.c.size_class, _s("unknown"))),
        (cut.c.dim == _s("scale"), case((sub.c.above_scale.is_(True), _s("yes")), else_=_s("no"))),
        (cut.c.dim == _s("city"), sub.c.city_code),
        (cut.c.dim == _s("county"), sub.c.region_code),
        else_=_s(""),
    )
    cols = [sub.c.figure, *[sub.c[k] for k in KEYS]]
    x = (
        select(
            func.substr(sub.c.region_code, 1, cut.c.n).label("region"),
            *cols,
            cut.c.dim,
            value.label("value"),
            sub.c.firm_id,
            *[sub.c[m] for m in ("firms", "n", "total", "scored")],
        )
        .select_from(sub.join(cut, true()))
        .where(where)
        .subquery("x")
    )
    group = [x.c.region, x.c.figure, *[x.c[k] for k in KEYS], x.c.dim, x.c.value]
    return (
        select(
            *group,
            firms(x).label("firms"),
            func.sum(x.c.n).label("assessments"),
            func.coalesce(func.sum(x.c.total), 0).label("total"),
            func.sum(x.c.scored).label("scored"),
        )
        .where(x.c.value.is_not(None))
        .group_by(*group)
    )


def _cells(firm_id: Any = None) -> Select[Any]:
    """Both parts of `_parts`, added up per cell."""
    both = union_all(*_parts(firm_id)).subquery("both")
    group = [both.c.region, both.c.figure, *[both.c[k] for k in KEYS], both.c.dim, both.c.value]
    return select(
        *group,
        func.sum(both.c.firms).label("firms"),
        func.sum(both.c.assessments).label("assessments"),
        func.sum(both.c.total).label("total"),
        func.sum(both.c.scored).label("scored"),
    ).group_by(*group)


def _parts(firm_id: Any = None) -> tuple[Select[Any], Select[Any]]:
    """(region, figure, k1–k4, dim, value, firms, assessments, total, scored) for every cell of the
    sharing firms (or of one firm, sharing or not). A firm counts once per cell: per figure row, the
    firms whose results all have the same place and kind (nearly every firm) are first added up per
    place and kind — few rows to spread over the cells — and the few firms whose place or kind
    changed between results are counted with DISTINCT. (Hash aggregates and joins only: no sort.)"""
    src = _sources(firm_id)
    row = [src.c.figure, *[src.c[k] for k in KEYS]]
    attrs = [src.c[a] for a in ATTRS]
    per_firm = (
        select(
            *row,
            src.c.firm_id,
            *attrs,
            func.count().label("n"),
            func.sum(src.c.pct).label("total"),
            func.count(src.c.pct).label("scored"),
            literal_column("1").label("firms"),
        )
        .group_by(*row, src.c.firm_id, *attrs)
        .cte("per_firm")
    )
    prow = [per_firm.c.figure, *[per_firm.c[k] for k in KEYS]]
    moved = (
        select(*prow, per_firm.c.firm_id.label("moved_firm"))
        .group_by(*prow, per_firm.c.firm_id)
        .having(func.count() > 1)
        .cte("moved")
    )
    same = and_(
        *[per_firm.c[c] == moved.c[c] for c in ("figure", *KEYS)], per_firm.c.firm_id == moved.c.moved_firm
    )
    pattrs = [per_firm.c[a] for a in ATTRS]
    per_place = (
        select(
            *prow,
            null().label("firm_id"),
            *pattrs,
            func.sum(per_firm.c.n).label("n"),
            func.sum(per_firm.c.total).label("total"),
            func.sum(per_firm.c.scored).label("scored"),
            func.count().label("firms"),
        )
        .select_from(per_firm.outerjoin(moved, same))
        .where(moved.c.moved_firm.is_(None))
        .group_by(*prow, *pattrs)
        .subquery("per_place")
    )
    movers = select(per_firm).select_from(per_firm.join(moved, same)).subquery("movers")
    simple = _expand(per_place, lambda x: func.sum(x.c.firms), true())
    several = _expand(movers, lambda x: func.count(distinct(x.c.firm_id)), true())
    return simple, several


COLUMNS = ("region", "figure", *KEYS, "dim", "value", "firms", "assessments", "total", "scored")


def rebuild() -> int:
    """Write every count again from the kept results of the sharing firms (inside `tenancy.bypass()`;
    the caller commits). Returns the number of cells."""
    s = db.session
    s.execute(delete(C))
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET LOCAL work_mem = '256MB'"))  # the grouping fits in memory
    simple, several = _parts()
    s.execute(insert(C).from_select(list(COLUMNS), simple))
    # the firms whose place or kind changed between results: added to the cells written
    s.execute(_upsert(insert_from=several))
    return s.execute(select(func.count()).select_from(C)).scalar_one()


@functools.cache
def _firm_statement() -> Select[Any]:
    """`_cells` of the firm given as the parameter "firm_id": built once, compiled once."""
    return _cells(bindparam("firm_id", type_=Integer))


def firm_cells(firm_id: int) -> dict[Key, Sums]:
    """One firm's part of every count (as if it shared)."""
    out: dict[Key, Sums] = {}
    with tenancy.bypass():
        for r in db.session.execute(_firm_statement(), {"firm_id": firm_id}):
            out[tuple(r[:8])] = (int(r.firms), int(r.assessments), Decimal(r.total or 0), int(r.scored))
    return out


def _sharing(firm_id: int) -> bool:
    q = select(F.c.share_statistics).where(F.c.id == firm_id).with_for_update(key_share=True)
    return bool(db.session.execute(q).scalar())


@contextmanager
def firm_changing(firm_id: int) -> Iterator[None]:
    """Around any change to a firm's kept results or its consent (or its deletion): the counts follow
    it, in the same transaction."""
    before = firm_cells(firm_id) if _sharing(firm_id) else {}
    yield
    db.session.flush()
    after = firm_cells(firm_id) if _sharing(firm_id) else {}
    add(after, before)


def add(plus: dict[Key, Sums], minus: dict[Key, Sums]) -> None:
    """Add `plus` less `minus` to the counts."""
    zero: Sums = (0, 0, Decimal(0), 0)
    rows = []
    for key in sorted(plus.keys() | minus.keys()):
        p, m = plus.get(key, zero), minus.get(key, zero)
        d = tuple(a - b for a, b in zip(p, m, strict=True))
        if any(d):
            rows.append(dict(zip(COLUMNS, (*key, *d), strict=True)))
    if not rows:
        return
    db.session.execute(_upsert(), rows)


def _upsert(insert_from: Select[Any] | None = None) -> Any:
    """INSERT into the counts that adds to a cell already there (its rows given, or `insert_from`)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(C)
    if insert_from is not None:
        stmt = stmt.from_select(list(COLUMNS), insert_from)
    return stmt.on_conflict_do_update(
        index_elements=[C.c[c] for c in COLUMNS[:8]],
        set_={c: C.c[c] + stmt.excluded[c] for c in COLUMNS[8:]},
    )


def cells_for(regions: dict[str, set[str] | None]) -> Select[Any]:
    """The counts of the cells of some region prefixes: for each prefix, every figure (None) or only
    the plans' figures with those ids."""
    conds = []
    for region, figures in regions.items():
        if figures is None:
            conds.append(C.c.region == region)
        else:
            conds.append(and_(C.c.region == region, C.c.figure == "plans", C.c.k1.in_(sorted(figures))))
    return select(*[C.c[c] for c in COLUMNS]).where(or_(*conds), C.c.firms > 0)
