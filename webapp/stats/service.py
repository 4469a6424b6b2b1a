"""Regulator statistics: the one place that reads across firms.

It reads the results kept per submitted assessment (`webapp.stats.results`) of the firms inside a
jurisdiction that agreed to share (`Firm.share_statistics`), with SQL aggregates (GROUP BY), and
returns counts of firms and averages only — never a firm's name, code or answers.

Privacy. Every figure is a count of firms (or an average over a counted group). A count from 1 to
k - 1 (k = `STATS_MIN_GROUP`, 5 by default) is hidden ("< k"). Figures are computed for every view
the page offers — the whole jurisdiction, or one cut: a city or county, an industry section, a size
class or 规上 — all at once, and hidden consistently across them:

- within a breakdown (ready / near / not ready of a target, yes / no of a plan figure), where the
  total less the cells shown would give a number from 1 to k - 1, the smallest cell shown is hidden
  too, until it would not (complementary suppression);
- across the views of one kind of cut, the same for each figure: the jurisdiction's figure less the
  groups shown must not give a number from 1 to k - 1 for the groups hidden.

Only one cut is offered at a time, so two views are either nested (the jurisdiction and one group:
their difference is the other groups together, which the second rule keeps at 0 or at least k) or
disjoint or crossing (their difference is no group's figure). `tests/test_regstats.py` tries the
difference of every pair of views the page offers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Select, case, distinct, func, literal_column, select, tuple_

from scoring.model import region_prefix
from webapp import db, tenancy
from webapp.models import AssessmentResult, AssessmentResultLine, Firm
from webapp.refdata import industries, regions
from webapp.stats import counts, plans

MIN_GROUP = 5  # the default of STATS_MIN_GROUP
SIZE_ORDER = ("large", "medium", "small", "micro", "unknown")
READINESS = ("ready", "near", "not_ready")
SCREENING = ("worth_full_evaluation", "not_yet")  # a screening mode's bands (quick mode), counted apart
STATUSES = READINESS + SCREENING
TOP = 10

R = AssessmentResult.__table__
L = AssessmentResultLine.__table__
F = Firm.__table__


def min_group() -> int:
    try:
        return int(current_app.config.get("STATS_MIN_GROUP", MIN_GROUP))
    except RuntimeError:  # outside an app
        return MIN_GROUP


# ---- the old per-table helper (counts of one breakdown), kept for its rule --------------------------


@dataclass(frozen=True)
class Group:
    key: str
    count: int | None  # None: suppressed, for the reason in `hidden`
    hidden: str | None = None  # "small": fewer than k firms; "complement": it would reveal one


def _groups(counter: Counter[str], order: list[str], k: int = MIN_GROUP) -> list[Group]:
    present = [(key, counter[key]) for key in order if counter[key] > 0]
    hidden = {key: "small" for key, n in present if n < k}
    rest = sum(n for key, n in present if key in hidden)
    shown = sorted((n, key) for key, n in present if key not in hidden)
    while 0 < rest < k and shown:
        # the groups hidden add up to fewer than k: the total less the groups shown would tell
        n, key = shown.pop(0)
        hidden[key] = "complement"
        rest += n
    return [Group(key, None if key in hidden else n, hidden.get(key)) for key, n in present]


# ---- views and cuts -------------------------------------------------------------------------------

DIMENSIONS = ("region", "industry", "size", "scale")
ALL = ("all", "")
View = tuple[str, str]  # ("all", "") or (dimension, value)


def region_level(jurisdiction: str) -> str:
    r = regions.get(jurisdiction)
    return r.level if r is not None else "county"


def dimensions(jurisdiction: str) -> tuple[str, ...]:
    """The cuts offered: by city (a province), by county (a city), none by place below a county."""
    if region_level(jurisdiction) == "county":
        return DIMENSIONS[1:]
    return DIMENSIONS


def dimension_values(jurisdiction: str, dim: str) -> list[str]:
    if dim == "region":
        return [c.code for c in regions.children(jurisdiction)]
    if dim == "industry":
        return [s.letter for s in industries.sections()] + ["?"]
    if dim == "size":
        return list(SIZE_ORDER)
    return ["yes", "no"]


def offered_views(jurisdiction: str) -> list[View]:
    """Every view the page, the exports and the API offer: the whole jurisdiction and each single cut."""
    out: list[View] = [ALL]
    for dim in dimensions(jurisdiction):
        out.extend((dim, v) for v in dimension_values(jurisdiction, dim))
    return out


def parse_view(jurisdiction: str, raw: str | None) -> View | None:
    """A view from its query-string form "dimension:value" ("" or None: everything); None if not offered."""
    if not raw:
        return ALL
    dim, _, value = raw.partition(":")
    view = (dim, value)
    return view if view in offered_views(jurisdiction) else None


def view_param(view: View) -> str:
    return "" if view == ALL else f"{view[0]}:{view[1]}"


def _dim_expr(jurisdiction: str, dim: str) -> Any:
    if dim == "region":
        return R.c.city_code if region_level(jurisdiction) == "province" else R.c.region_code
    # constants as literals: the same expression in SELECT and GROUP BY, with no parameters to tell apart
    if dim == "industry":
        return func.coalesce(R.c.industry_section, literal_column("'?'"))
    if dim == "size":
        return func.coalesce(R.c.size_class, literal_column("'unknown'"))
    return case((R.c.above_scale.is_(True), literal_column("'yes'")), else_=literal_column("'no'"))


# ---- the raw figures, by SQL ----------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    counts: tuple[str, ...]  # columns that are counts of firms (suppressed below k)
    parts: tuple[str, ...] = ()  # count columns that add up to "_n" (complementary suppression)
    tied: tuple[tuple[str, str], ...] = ()  # (column, count column): hidden when that one is


TABLES: dict[str, TableSpec] = {
    "overview": TableSpec(("firms",), tied=(("assessments", "firms"),)),
    "quarters": TableSpec(("firms",), tied=(("assessments", "firms"),)),
    "readiness": TableSpec(("_n", *STATUSES), parts=STATUSES),
    "sections": TableSpec(("_n",), tied=(("avg", "_n"),)),
    "gaps": TableSpec(("firms",)),
    "gates": TableSpec(("firms",)),
    "trend": TableSpec(("_n",), tied=(("avg", "_n"),)),
    "plans": TableSpec(("_n", "yes", "no"), parts=("yes", "no"), tied=(("share", "_n"),)),
}

Raw = dict[View, dict[str, dict[tuple[str, ...], dict[str, float]]]]


def _scoped(q: Select[Any], jurisdiction: str, *, latest: bool) -> Select[Any]:
    q = q.where(
        R.c.region_code.like(region_prefix(jurisdiction) + "%"),
        F.c.share_statistics.is_(True),
    )
    return q.where(R.c.latest.is_(True)) if latest else q


def _from(with_lines: bool = False) -> Any:
    j = R.join(F, F.c.id == R.c.firm_id)
    return j.join(L, L.c.assessment_id == R.c.assessment_id) if with_lines else j


def _queries(jurisdiction: str) -> list[tuple[str, Select[Any], int]]:
    """(table, statement, number of row-key columns) — each grouped further by the view's column."""
    firms = func.count(distinct(R.c.firm_id))
    out: list[tuple[str, Select[Any], int]] = []
    out.append(
        ("overview", _scoped(select(firms, func.count()).select_from(_from()), jurisdiction, latest=False), 0)
    )
    q = select(R.c.quarter, firms, func.count()).select_from(_from())
    out.append(("quarters", _scoped(q, jurisdiction, latest=False).group_by(R.c.quarter), 1))
    q = (
        select(R.c.framework_id, R.c.mode, L.c.key, L.c.status, firms)
        .select_from(_from(True))
        .where(L.c.kind == "target", L.c.status.in_(STATUSES))
    )
    keys = (R.c.framework_id, R.c.mode, L.c.key, L.c.status)
    out.append(("readiness", _scoped(q, jurisdiction, latest=True).group_by(*keys), 4))
    q = (
        select(R.c.framework_id, R.c.mode, L.c.key, firms, func.avg(L.c.percent))
        .select_from(_from(True))
        .where(L.c.kind == "section", L.c.percent.is_not(None))
    )
    out.append(("sections", _scoped(q, jurisdiction, latest=True).group_by(*keys[:3]), 3))
    q = select(R.c.framework_id, L.c.key, firms).select_from(_from(True)).where(L.c.kind == "gap")
    out.append(("gaps", _scoped(q, jurisdiction, latest=True).group_by(R.c.framework_id, L.c.key), 2))
    q = (
        select(R.c.framework_id, L.c.key, firms)
        .select_from(_from(True))
        .where(L.c.kind == "gate", L.c.status == "fail")
    )
    out.append(("gates", _scoped(q, jurisdiction, latest=True).group_by(R.c.framework_id, L.c.key), 2))
    q = select(R.c.quarter, R.c.framework_id, R.c.mode, firms, func.avg(R.c.percent)).select_from(_from())
    out.append(
        ("trend", _scoped(q, jurisdiction, latest=False).group_by(R.c.quarter, R.c.framework_id, R.c.mode), 3)
    )
    for fig in plans.figures_for(jurisdiction):
        out.extend(_plan_queries(fig, jurisdiction))
    return out


def _passing(gates: Iterable[str]) -> Any:
    """The assessments whose kept result passes every one of `gates`."""
    gates = tuple(gates)
    return (
        select(L.c.assessment_id)
        .where(L.c.kind == "gate", L.c.key.in_(gates), L.c.status == "pass")
        .group_by(L.c.assessment_id)
        .having(func.count() == len(gates))
    )


def _plan_queries(fig: plans.PlanFigure, jurisdiction: str) -> list[tuple[str, Select[Any], int]]:
    scope = fig.scope(jurisdiction)
    base = (
        select(func.count(distinct(R.c.firm_id)))
        .select_from(_from())
        .where(R.c.framework_id == fig.framework, R.c.region_code.like(scope + "%"))
    )
    if fig.population == "sme":
        base = base.where(R.c.size_class.in_(("medium", "small", "micro")))
    elif fig.population == "above_scale":
        base = base.where(R.c.above_scale.is_(True))
    elif fig.population == "certified":
        base = base.where(R.c.assessment_id.in_(_passing(("holds-certificate",))))
    base = _scoped(base, jurisdiction, latest=True)
    yes = base.where(R.c.assessment_id.in_(_passing(fig.gates)))
    tag = f"plan:{fig.id}"
    return [(tag + ":_n", base, 0), (tag + ":yes", yes, 0)]


def raw_figures(jurisdiction: str) -> Raw:
    """Every figure of every offered view, before suppression, from the counts added up ahead
    (`webapp.stats.counts`): one statement, on the statistics' engine (`STATS_DATABASE_URL`)."""
    prefix = region_prefix(jurisdiction)
    region_dim = {"province": "city", "city": "county"}.get(region_level(jurisdiction))
    offered = set(offered_views(jurisdiction))
    scopes = {fig.id: fig.scope(jurisdiction) for fig in plans.figures_for(jurisdiction)}
    wanted: dict[str, set[str] | None] = {prefix: None}
    for fid, scope in scopes.items():
        if scope != prefix:
            wanted.setdefault(scope, set()).add(fid)  # type: ignore[union-attr]
    raw: Raw = {}
    dims = {"all": None, region_dim: "region", "industry": "industry", "size": "size", "scale": "scale"}
    for region, figure, k1, k2, k3, k4, dim, value, firms, assessments, total, scored in _read(
        counts.cells_for(wanted)
    ):
        if (scopes.get(k1) if figure == "plans" else prefix) != region or dim not in dims:
            continue
        cut = dims[dim]
        view: View = ALL if cut is None else (cut, value)
        if view not in offered:
            continue
        rows = raw.setdefault(view, {}).setdefault(figure, {})
        if figure == "plans":
            rows.setdefault((k1,), {})[k2] = firms
        elif figure == "readiness":
            rows.setdefault((k1, k2, k3), {})[k4] = firms
        elif figure == "overview":
            rows[()] = {"firms": firms, "assessments": assessments}
        elif figure == "quarters":
            rows[(k1,)] = {"firms": firms, "assessments": assessments}
        elif figure in ("sections", "trend"):
            rows[(k1, k2, k3)] = {"_n": firms, "avg": float(Decimal(total) / scored) if scored else 0.0}
        else:
            rows[(k1, k2)] = {"firms": firms}
    _complete(raw)
    return raw


def _read(q: Select[Any]) -> list[Any]:
    engine = db.stats_engine()
    if engine is None:
        with tenancy.bypass():
            return list(db.session.execute(q).tuples().all())
    with engine.connect() as conn:
        return list(conn.execute(q).tuples().all())


def raw_from_results(jurisdiction: str) -> Raw:
    """The same figures as `raw_figures`, read straight from the kept results with a statement per
    figure (seconds at scale): the reference the counts are tested against."""
    raw: Raw = {}
    dims = dimensions(jurisdiction)
    with tenancy.bypass():
        grouping_sets = db.session.get_bind().dialect.name == "postgresql"
        for table, q, nkeys in _queries(jurisdiction):
            if grouping_sets:  # every view of the statement in one pass over the rows
                for view, r in _by_grouping_sets(q, jurisdiction, dims):
                    _put(raw, view, table, r, nkeys)
                continue
            for dim in (None, *dims):
                if dim is None:
                    rows = db.session.execute(q).all()
                    pairs = [(ALL, tuple(r)) for r in rows]
                else:
                    expr = _dim_expr(jurisdiction, dim).label("view")
                    gq = q.add_columns(expr).group_by(expr)
                    pairs = [((dim, str(r[-1])), tuple(r[:-1])) for r in db.session.execute(gq).all()]
                for view, r in pairs:
                    _put(raw, view, table, r, nkeys)
    _complete(raw)
    return raw


def _complete(raw: Raw) -> None:
    for tables in raw.values():
        for cells in tables.get("readiness", {}).values():
            cells["_n"] = sum(cells.get(c, 0) for c in STATUSES)
        for cells in tables.get("plans", {}).values():
            cells.setdefault("yes", 0)
            cells["no"] = cells.get("_n", 0) - cells["yes"]
            cells["share"] = 100 * cells["yes"] / cells["_n"] if cells.get("_n") else 0


def _by_grouping_sets(
    q: Select[Any], jurisdiction: str, dims: tuple[str, ...]
) -> list[tuple[View, tuple[Any, ...]]]:
    """The statement for the whole jurisdiction and for each kind of cut at once (PostgreSQL's GROUPING
    SETS); `grouping()` tells which set a row belongs to."""
    base = list(q._group_by_clauses)
    exprs = [_dim_expr(jurisdiction, d) for d in dims]
    sets = [tuple_(*base)] + [tuple_(*base, e) for e in exprs]
    gq = q.group_by(None).add_columns(*exprs, func.grouping(*exprs)).group_by(func.grouping_sets(*sets))
    out = []
    full = (1 << len(dims)) - 1
    for row in db.session.execute(gq).all():
        r = tuple(row)
        values, mask = r[-1 - len(dims) : -1], r[-1]
        head = r[: -1 - len(dims)]
        if mask == full:
            out.append((ALL, head))
            continue
        for i, dim in enumerate(dims):
            if not mask & (1 << (len(dims) - 1 - i)):
                out.append(((dim, str(values[i])), head))
    return out


def _put(raw: Raw, view: View, table: str, r: tuple[Any, ...], nkeys: int) -> None:
    tables = raw.setdefault(view, {})
    if table.startswith("plan:"):
        _, fid, col = table.split(":")
        if r[0]:
            tables.setdefault("plans", {}).setdefault((fid,), {})[col] = int(r[0])
        return
    rows = tables.setdefault(table, {})
    if table == "readiness":
        fw, mode, key, status, n = r
        rows.setdefault((fw, mode, key), {})[status] = int(n)
    elif table in ("overview", "quarters"):
        key = tuple(str(x) for x in r[:nkeys])
        if r[nkeys]:
            rows[key] = {"firms": int(r[nkeys]), "assessments": int(r[nkeys + 1])}
    elif table in ("sections", "trend"):
        key = tuple(str(x) for x in r[:nkeys])
        rows[key] = {"_n": int(r[nkeys]), "avg": float(r[nkeys + 1]) if r[nkeys + 1] is not None else 0.0}
    else:
        rows[tuple(str(x) for x in r[:nkeys])] = {"firms": int(r[nkeys])}


# ---- suppression ----------------------------------------------------------------------------------

Hidden = dict[tuple[View, str, tuple[str, ...], str], str]


def suppress(raw: Raw, jurisdiction: str, k: int) -> Hidden:
    """Which cells of which views are hidden, and why ("small" or "complement")."""
    hidden: Hidden = {}
    for view, tables in raw.items():
        for table, rows in tables.items():
            spec = TABLES[table]
            for key, cells in rows.items():
                for col in spec.counts:
                    v = cells.get(col, 0)
                    if 0 < v < k:
                        hidden[(view, table, key, col)] = "small"
    dims = dimensions(jurisdiction)
    groups = {dim: dimension_values(jurisdiction, dim) for dim in dims}
    changed = True
    while changed:
        changed = False
        # within a breakdown: the total less the cells shown
        for view, tables in raw.items():
            for table, rows in tables.items():
                spec = TABLES[table]
                if not spec.parts:
                    continue
                for key, cells in rows.items():
                    if (view, table, key, "_n") in hidden:
                        continue
                    changed |= _complement(
                        cells.get("_n", 0),
                        [(cells.get(c, 0), (view, table, key, c)) for c in spec.parts],
                        hidden,
                        k,
                    )
        # across the groups of one cut: the jurisdiction's figure less the groups shown
        everything = raw.get(ALL, {})
        for table, rows in everything.items():
            spec = TABLES[table]
            for key, cells in rows.items():
                for col in spec.counts:
                    if (ALL, table, key, col) in hidden:
                        continue
                    for dim in dims:
                        members = []
                        for value in groups[dim]:
                            view = (dim, value)
                            v = raw.get(view, {}).get(table, {}).get(key, {}).get(col, 0)
                            members.append((v, (view, table, key, col)))
                        changed |= _complement(cells.get(col, 0), members, hidden, k)
    return hidden


def _complement(total: float, members: list[tuple[float, Any]], hidden: Hidden, k: int) -> bool:
    shown = sorted((v, cell) for v, cell in members if cell not in hidden and v > 0)
    rest = total - sum(v for v, _ in shown)
    changed = False
    while 0 < rest < k and shown:
        v, cell = shown.pop(0)
        hidden[cell] = "complement"
        rest += v
        changed = True
    return changed


# ---- what the page, the exports and the API show --------------------------------------------------


@dataclass(frozen=True)
class Cell:
    value: float | None  # None: hidden
    hidden: str | None = None  # "small" | "complement"

    @property
    def shown(self) -> bool:
        return self.value is not None


@dataclass
class Stats:
    jurisdiction: str
    view: View
    k: int
    tables: dict[str, dict[tuple[str, ...], dict[str, Cell]]] = field(default_factory=dict)
    # where help would count (the whole jurisdiction only): (cut, target row key, firms near it) for
    # each city or county and industry section, as each of those views shows it
    near: list[tuple[View, tuple[str, ...], Cell]] = field(default_factory=list)

    def rows(self, table: str) -> dict[tuple[str, ...], dict[str, Cell]]:
        return self.tables.get(table, {})


def _cells(raw: Raw, hidden: Hidden, view: View) -> dict[str, dict[tuple[str, ...], dict[str, Cell]]]:
    out: dict[str, dict[tuple[str, ...], dict[str, Cell]]] = {}
    for table, rows in raw.get(view, {}).items():
        spec = TABLES[table]
        tied = dict(spec.tied)
        for key, cells in rows.items():
            row: dict[str, Cell] = {}
            for col, v in cells.items():
                why = hidden.get((view, table, key, tied.get(col, col)))
                if table == "plans" and col == "share":
                    why = why or hidden.get((view, table, key, "yes"))
                row[col] = Cell(None, why) if why else Cell(v)
            out.setdefault(table, {})[key] = row
    return out


def compute(jurisdiction: str, view: View = ALL, *, k: int | None = None) -> Stats:
    k = k or min_group()
    raw = raw_figures(jurisdiction)
    hidden = suppress(raw, jurisdiction, k)
    st = Stats(jurisdiction, view, k, _cells(raw, hidden, view))
    if view == ALL:
        st.near = _near(raw, hidden, jurisdiction)
    return st


def _near(raw: Raw, hidden: Hidden, jurisdiction: str) -> list[tuple[View, tuple[str, ...], Cell]]:
    """The places and industries with the most firms near a target (for 质量诊断 campaigns), as the
    views of those places and industries show them: hidden cells stay hidden and are not ranked."""
    out = []
    for dim in ("region", "industry"):
        if dim not in dimensions(jurisdiction):
            continue
        for value in dimension_values(jurisdiction, dim):
            view = (dim, value)
            for key, cells in _cells(raw, hidden, view).get("readiness", {}).items():
                cell = cells.get("near")
                if cell is not None and cell.shown and cell.value:
                    out.append((view, key, cell))
    out.sort(key=lambda x: (-(x[2].value or 0), x[0], x[1]))
    return out[:TOP]


def all_views(jurisdiction: str, *, k: int | None = None) -> dict[View, Stats]:
    """Every offered view, as shown (for the differencing test and the exports of all cuts)."""
    k = k or min_group()
    raw = raw_figures(jurisdiction)
    hidden = suppress(raw, jurisdiction, k)
    return {v: Stats(jurisdiction, v, k, _cells(raw, hidden, v)) for v in offered_views(jurisdiction)}


def top(rows: dict[tuple[str, ...], dict[str, Cell]], col: str = "firms", n: int = TOP) -> list[Any]:
    """The `n` rows with the most firms among those shown (hidden counts are not ranked)."""
    shown = [(key, cells) for key, cells in rows.items() if cells[col].shown]
    shown.sort(key=lambda kc: (-(kc[1][col].value or 0), kc[0]))
    return shown[:n]


def quarter_label(q: str) -> str:
    return f"{q[:4]} Q{q[-1]}"


def today() -> dt.date:
    return dt.date.today()
