"""GB/T 4754-2017 国民经济行业分类: the 20 sections (门类, A–T) and 97 divisions (大类, 01–97).

`industries.json` holds both levels with Chinese and English names; each division names its section.
Codes are strings: a section is one capital letter, a division two digits ("01", "13", "65").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

_PACKAGE = __name__.rpartition(".")[0]


@dataclass(frozen=True)
class Section:
    letter: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


@dataclass(frozen=True)
class Division:
    code: str
    name_zh: str
    name_en: str
    section: str

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


@dataclass(frozen=True)
class _Index:
    sections: tuple[Section, ...]
    divisions: tuple[Division, ...]
    section_by_letter: dict[str, Section]
    division_by_code: dict[str, Division]


@cache
def _index() -> _Index:
    raw = json.loads(resources.files(_PACKAGE).joinpath("industries.json").read_text(encoding="utf-8"))
    secs = tuple(
        Section(letter=str(s["letter"]), name_zh=str(s["name_zh"]), name_en=str(s["name_en"]))
        for s in raw["sections"]
    )
    divs = tuple(
        Division(
            code=str(d["code"]),
            name_zh=str(d["name_zh"]),
            name_en=str(d["name_en"]),
            section=str(d["section"]),
        )
        for d in raw["divisions"]
    )
    by_letter = {s.letter: s for s in secs}
    by_code = {d.code: d for d in divs}
    if len(by_letter) != len(secs) or len(by_code) != len(divs):
        raise ValueError("industries.json: duplicate codes")
    for d in divs:
        if d.section not in by_letter:
            raise ValueError(f"industries.json: division {d.code} has unknown section {d.section}")
    return _Index(
        sections=tuple(sorted(secs, key=lambda s: s.letter)),
        divisions=tuple(sorted(divs, key=lambda d: d.code)),
        section_by_letter=by_letter,
        division_by_code=by_code,
    )


def section(letter: str) -> Section | None:
    """The section with this letter (case-insensitive), or None."""
    return _index().section_by_letter.get(letter.strip().upper())


def division(code: str) -> Division | None:
    """The division with this two-digit code, or None."""
    return _index().division_by_code.get(code.strip())


def sections() -> list[Section]:
    """All 20 sections, A to T."""
    return list(_index().sections)


def divisions(section_letter: str | None = None) -> list[Division]:
    """All 97 divisions in code order, or those of one section (empty for an unknown letter)."""
    divs = _index().divisions
    if section_letter is None:
        return list(divs)
    letter = section_letter.strip().upper()
    return [d for d in divs if d.section == letter]


def section_of(division_code: str) -> str | None:
    """The section letter of a division ("13" -> "C"), or None for an unknown code.

    A longer GB/T 4754 code (group "651", class "6510") is looked up by its first two digits.
    """
    code = division_code.strip()
    if len(code) > 2 and code.isdigit():
        code = code[:2]
    found = division(code)
    return None if found is None else found.section


def name(code: str, lang: str) -> str:
    """The name of a section (letter) or division (two digits) in `lang` ("en…" English, else Chinese).

    An unknown code is returned unchanged, so a page that shows stored data never fails; use `section`
    or `division` to tell known codes apart.
    """
    key = code.strip()
    item: Section | Division | None = division(key) if key.isdigit() else section(key)
    return code if item is None else item.name(lang)
