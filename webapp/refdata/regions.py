"""Zhejiang administrative divisions (GB/T 2260 codes).

`regions.json` holds the province 330000, its 11 prefecture-level cities and their 90 county-level
divisions (districts, counties and county-level cities), with the codes in force since the 2021
Hangzhou re-districting. Levels are "province", "city" (prefecture level) and "county" (county level:
市辖区, 县, 县级市, 自治县).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, cast

_PACKAGE = __name__.rpartition(".")[0]

Level = Literal["province", "city", "county"]
LEVELS: tuple[Level, ...] = ("province", "city", "county")


@dataclass(frozen=True)
class Region:
    code: str
    name_zh: str
    name_en: str
    level: Level
    parent: str | None

    def name(self, lang: str) -> str:
        """The name in `lang` ("en…" gives English, anything else Chinese)."""
        return self.name_en if lang.startswith("en") else self.name_zh


@dataclass(frozen=True)
class _Index:
    ordered: tuple[Region, ...]
    by_code: dict[str, Region]
    children: dict[str, tuple[Region, ...]]


@cache
def _index() -> _Index:
    raw = json.loads(resources.files(_PACKAGE).joinpath("regions.json").read_text(encoding="utf-8"))
    regions: list[Region] = []
    for item in raw["regions"]:
        level = item["level"]
        if level not in LEVELS:
            raise ValueError(f"regions.json: unknown level {level!r} for {item['code']}")
        regions.append(
            Region(
                code=str(item["code"]),
                name_zh=str(item["name_zh"]),
                name_en=str(item["name_en"]),
                level=cast(Level, level),
                parent=None if item["parent"] is None else str(item["parent"]),
            )
        )
    regions.sort(key=lambda r: r.code)
    by_code = {r.code: r for r in regions}
    if len(by_code) != len(regions):
        raise ValueError("regions.json: duplicate codes")
    kids: dict[str, list[Region]] = {}
    for r in regions:
        if r.parent is not None:
            if r.parent not in by_code:
                raise ValueError(f"regions.json: {r.code} has unknown parent {r.parent}")
            kids.setdefault(r.parent, []).append(r)
    return _Index(
        ordered=tuple(regions),
        by_code=by_code,
        children={code: tuple(rs) for code, rs in kids.items()},
    )


def all_regions() -> list[Region]:
    """Every region, ordered by code."""
    return list(_index().ordered)


def get(code: str) -> Region | None:
    """The region with this code, or None."""
    return _index().by_code.get(code.strip())


def name(code: str, lang: str) -> str:
    """The region's name in `lang` ("en…" English, otherwise Chinese).

    An unknown code (e.g. an abolished one such as 330103) is returned unchanged, so a page that shows
    stored data never fails; use `get` to tell known codes apart.
    """
    region = get(code)
    return code if region is None else region.name(lang)


def names_of_prefixes(prefixes: Iterable[str], lang: str) -> str:
    """The places a target's region-code prefixes stand for ("3306" is 绍兴市), joined in `lang`."""
    names = [name(p + "0" * (6 - len(p)), lang) for p in prefixes]
    return (", " if lang.startswith("en") else "、").join(names)


def children(code: str) -> list[Region]:
    """The direct subdivisions of a region, ordered by code (empty for a county or an unknown code)."""
    return list(_index().children.get(code.strip(), ()))


def cities() -> list[Region]:
    """The 11 prefecture-level cities of Zhejiang, ordered by code."""
    return [r for r in _index().ordered if r.level == "city"]


def counties(city_code: str) -> list[Region]:
    """The county-level divisions of a city (empty when `city_code` is not a city)."""
    return [r for r in children(city_code) if r.level == "county"]


def is_within(code: str, ancestor_code: str) -> bool:
    """True when `code` is `ancestor_code` or lies inside it; False for unknown codes."""
    by_code = _index().by_code
    ancestor = ancestor_code.strip()
    if ancestor not in by_code:
        return False
    region = by_code.get(code.strip())
    while region is not None:
        if region.code == ancestor:
            return True
        region = by_code.get(region.parent) if region.parent is not None else None
    return False


def city_of(code: str) -> str | None:
    """The prefecture-level city code of a city or county; None for the province or an unknown code."""
    region = get(code)
    while region is not None:
        if region.level == "city":
            return region.code
        region = get(region.parent) if region.parent is not None else None
    return None
