"""The catalog coverage map: every theme of the criteria catalogs maps to items, or says why not.

`assessments/frameworks/coverage.yaml` maps each theme of `province.md` (`## A. …`) and `city.md`
(`### Theme A — …`) to the framework items that ask it, or to a bilingual reason why no framework does.
The catalogs live in the shared directory next to the repository (`../shared/criteria`), or in
$QREADY_SHARED_DIR/criteria. A theme added to a catalog without an entry here fails this test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = REPO / "assessments" / "frameworks"
COVERAGE = FRAMEWORKS / "coverage.yaml"

# catalog key in coverage.yaml -> (file name, heading pattern of a theme)
CATALOGS = {
    "province": ("province.md", re.compile(r"^## ([A-Z])\. \S", re.MULTILINE)),
    "city": ("city.md", re.compile(r"^### Theme ([A-Z]) ", re.MULTILINE)),
}


def shared_dir() -> Path:
    env = os.environ.get("QREADY_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def catalog_themes(name: str) -> list[str]:
    file, pattern = CATALOGS[name]
    path = shared_dir() / "criteria" / file
    assert path.is_file(), f"criteria catalog not found: {path} (set QREADY_SHARED_DIR)"
    themes = pattern.findall(path.read_text(encoding="utf-8"))
    assert themes, f"no theme headings found in {path}"
    assert len(themes) == len(set(themes)), f"a theme letter appears twice in {path}: {themes}"
    return themes


def load_coverage() -> dict[str, dict[str, dict[str, object]]]:
    data = yaml.safe_load(COVERAGE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "coverage.yaml must be a mapping"
    return data


def framework_item_ids() -> set[str]:
    ids: set[str] = set()
    for path in sorted(FRAMEWORKS.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section in data.get("sections") or []:
            for item in section.get("items") or []:
                ids.add(item["id"])
    return ids


def test_coverage_names_only_known_catalogs() -> None:
    assert set(load_coverage()) == set(CATALOGS)


@pytest.mark.parametrize("catalog", sorted(CATALOGS))
def test_every_theme_has_an_entry(catalog: str) -> None:
    themes = catalog_themes(catalog)
    entries = load_coverage().get(catalog) or {}
    missing = [t for t in themes if t not in entries]
    assert not missing, f"{catalog}: themes without an entry in coverage.yaml: {missing}"
    stale = sorted(set(entries) - set(themes))
    assert not stale, f"{catalog}: coverage.yaml has entries for themes not in the catalog: {stale}"


@pytest.mark.parametrize("catalog", sorted(CATALOGS))
def test_entries_are_items_or_reasons(catalog: str) -> None:
    known = framework_item_ids()
    entries = load_coverage().get(catalog) or {}
    for theme, entry in entries.items():
        where = f"{catalog}.{theme}"
        assert isinstance(entry, dict), f"{where}: an entry is a mapping"
        assert set(entry) <= {"items", "reason"}, (
            f"{where}: unknown keys {sorted(set(entry) - {'items', 'reason'})}"
        )
        assert entry, f"{where}: needs items or a reason"
        if "items" in entry:
            items = entry["items"]
            assert isinstance(items, list) and items, f"{where}: items must be a non-empty list"
            assert len(items) == len(set(items)), f"{where}: an item is listed twice"
            unknown = [i for i in items if i not in known]
            assert not unknown, f"{where}: items not defined in any framework: {unknown}"
        if "reason" in entry:
            reason = entry["reason"]
            assert isinstance(reason, dict), f"{where}: a reason is {{zh: …, en: …}}"
            for lang in ("zh", "en"):
                text = reason.get(lang)
                assert isinstance(text, str) and text.strip(), f"{where}: the reason needs {lang} text"
