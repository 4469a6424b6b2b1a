"""The least-effort set of improvements that reaches a number of points: an exact 0/1 covering knapsack.

Problem: given candidates i with an integer effort cost c_i >= 1 and a gain g_i > 0 (Decimal), choose a
set S with sum(g_i) >= need that minimises, in this order, the total cost, the number of items, and the
sorted tuple of candidate positions (earliest in framework order first).

Method. Effort costs take very few distinct values (`Effort.cost`: 1, 2, 4). Fix how many items are
taken from each cost class (a count vector): the total cost and the count are then fixed, and the gain
is largest when each class contributes its highest gains. So:

1. the optimal (cost, count) is found by enumerating count vectors over the prefix sums of each class
   sorted by gain (the last class's count by bisection);
2. every count vector with that cost and count whose top picks reach the need is a candidate shape;
3. for each shape, the earliest set is built greedily in framework order: a candidate is taken when
   the best completion (the top gains of each class's remaining quota among later candidates) still
   reaches the need; the earliest of these sets is the answer.

Gains are turned into integers of a common unit first, so every comparison is exact. The work is
polynomial in the number of candidates for a fixed number of cost classes; `tests/scoring` checks it
against brute force.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import accumulate

_ONE = Decimal(1)


def _prefix(gains: list[int]) -> list[int]:
    """0, then the running sums of the gains, best first."""
    return [0, *accumulate(sorted(gains, reverse=True))]


def _vectors(costs: Sequence[int], limits: Sequence[int], cost: int, count: int) -> Iterator[tuple[int, ...]]:
    """Every count vector m (m_i <= limits_i) with sum(m) == count and sum(m_i * costs_i) == cost.

    `costs` are distinct and ascending. Two equations fix the last two counts, so the enumeration
    only loops over the others.
    """
    if len(costs) == 1:
        if count * costs[0] == cost and count <= limits[0]:
            yield (count,)
        return
    if len(costs) == 2:
        c0, c1 = costs
        num = cost - c0 * count
        if num >= 0 and num % (c1 - c0) == 0:
            m1 = num // (c1 - c0)
            m0 = count - m1
            if 0 <= m0 <= limits[0] and m1 <= limits[1]:
                yield (m0, m1)
        return
    c0 = costs[0]
    for m in range(min(limits[0], count, cost // c0) + 1):
        for rest in _vectors(costs[1:], limits[1:], cost - m * c0, count - m):
            yield (m, *rest)


def _best_cost_count(classes: list[int], prefix: list[list[int]], need: int) -> tuple[int, int] | None:
    """The least (cost, count) of per-class top picks reaching `need`, or None.

    Loops over the counts taken from every class but the last; the last class's count is the
    smallest whose top gains cover what is still missing (a bisection of its prefix sums).
    """
    best: tuple[int, int] | None = None
    last = len(classes) - 1
    c_last, p_last = classes[last], prefix[last]
    top_last = p_last[-1]
    rest = [0] * (len(classes) + 1)  # the most the classes from position ci on can add
    for ci in range(last, -1, -1):
        rest[ci] = rest[ci + 1] + prefix[ci][-1]

    def walk(ci: int, cost: int, count: int, acc: int) -> None:
        nonlocal best
        if ci == last:
            short = need - acc
            if top_last >= short:
                m = bisect_left(p_last, short) if short > 0 else 0
                key = (cost + m * c_last, count + m)
                if best is None or key < best:
                    best = key
            return
        c, p, after = classes[ci], prefix[ci], rest[ci + 1]
        for m in range(len(p)):
            k = cost + m * c
            if best is not None and k > best[0]:
                break
            got = acc + p[m]
            if got + after < need:
                continue
            if ci + 1 == last:  # the common case, inline: bisect the last class
                short = need - got
                mm = bisect_left(p_last, short) if short > 0 else 0
                key = (k + mm * c_last, count + m + mm)
                if best is None or key < best:
                    best = key
            else:
                walk(ci + 1, k, count + m, got)

    walk(0, 0, 0, 0)
    return best


class Cover:
    """Least-effort covers of one candidate list, for any number of needs (one per target).

    The per-class prefix sums and the suffix tables are built once, on the first `solve`.
    """

    def __init__(self, costs: Sequence[int], gains: Sequence[Decimal]) -> None:
        self.costs = list(costs)
        # Exact integer arithmetic: every gain as a multiple of 1/unit, unit = lcm of the denominators.
        ratios = [g.as_integer_ratio() for g in gains]
        unit = math.lcm(*(d for _, d in ratios)) if ratios else 1
        self.unit = unit
        self.gains = [n * (unit // d) for n, d in ratios]
        self.total = sum(self.gains)
        self._built = False

    def _build(self) -> None:
        self.classes = classes = sorted(set(self.costs))
        cls = {c: i for i, c in enumerate(classes)}
        self.of = of = [cls[c] for c in self.costs]
        members: list[list[int]] = [[] for _ in classes]  # gains of each class, in candidate order
        for i, ci in enumerate(of):
            members[ci].append(self.gains[i])
        self.prefix = [_prefix(m) for m in members]
        # tails[c][k]: prefix sums (best first) of class c's members from its k-th member on
        tails: list[list[list[int]]] = []
        for m in members:
            pool: list[int] = []  # ascending
            rows: list[list[int]] = [[0]] * (len(m) + 1)
            for k in range(len(m) - 1, -1, -1):
                insort(pool, m[k])
                rows[k] = [0, *accumulate(reversed(pool))]
            tails.append(rows)
        self.tails = tails
        self._built = True

    def solve(self, need: Decimal, per: Decimal = _ONE) -> tuple[int, ...] | None:
        """Positions (ascending) of the least-effort candidates whose gains reach `need / per` (per > 0).

        None if impossible. Ties: least total cost, then fewest items, then earliest positions.
        """
        if need <= 0:
            return ()
        a, b = need.as_integer_ratio()
        c, d = per.as_integer_ratio()
        # need / per in units of 1/unit, rounded up: sums of gains are whole numbers of units
        target = -(-a * d * self.unit // (b * c))
        return self._solve(target)

    def _solve(self, need: int) -> tuple[int, ...] | None:
        if not self.costs or self.total < need:
            return None
        if not self._built:
            self._build()
        prefix, classes = self.prefix, self.classes
        best = _best_cost_count(classes, prefix, need)
        if best is None:  # pragma: no cover - the total check above guarantees a cover exists
            return None
        # Every count vector of the optimal cost and count whose top picks reach the need: the best
        # set has one of these vectors.
        limits = [len(p) - 1 for p in prefix]
        found: list[int] | None = None
        for v in _vectors(classes, limits, best[0], best[1]):
            top = 0
            for ci, m in enumerate(v):
                top += prefix[ci][m]
            if top >= need:
                chosen = self._earliest(v, need)
                if found is None or chosen < found:
                    found = chosen
        assert found is not None
        return tuple(found)

    def _earliest(self, vector: tuple[int, ...], need: int) -> list[int]:
        """The earliest set taking exactly vector[c] candidates of each class and reaching the need.

        Candidate i is taken when the best completion from the candidates after it still reaches the
        need: the completion takes the top gains of each class's remaining quota.
        """
        of, gains, tails = self.of, self.gains, self.tails
        quota = list(vector)
        k = len(quota)
        seen = [0] * k  # members of each class at or before the current candidate
        left = need
        chosen: list[int] = []
        remaining = sum(quota)
        for i in range(len(gains)):
            if remaining == 0:
                break
            ci = of[i]
            seen[ci] += 1
            if quota[ci] == 0:
                continue
            quota[ci] -= 1
            reach = gains[i]
            feasible = True
            for c in range(k):
                p = tails[c][seen[c]]
                q = quota[c]
                if q >= len(p):
                    feasible = False
                    break
                reach += p[q]
            if feasible and reach >= left:
                chosen.append(i)
                left -= gains[i]
                remaining -= 1
            else:
                quota[ci] += 1
        return chosen


def cheapest_cover(costs: Sequence[int], gains: Sequence[Decimal], need: Decimal) -> tuple[int, ...] | None:
    """Positions (ascending) of the least-effort candidates whose gains reach `need`; None if impossible.

    `need <= 0` gives (). Costs are positive integers, gains positive. Ties: least total cost, then
    fewest items, then earliest positions.
    """
    return Cover(costs, gains).solve(need)
