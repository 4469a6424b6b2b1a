"""Load framework files (`assessments/frameworks/<id>/<version>.yaml`) into `scoring.model` types.

The file format is documented in docs/frameworks.md. Reading is strict: unknown keys, wrong types and
missing required keys are reported as `Problem`s, and `load_file` refuses a file with any problem the
framework alone can reveal (the checks of `assessments.checks.check_framework`). The checks that need
other files (ids unique across frameworks, shared facts, seed quotes, released hashes) live in
`assessments.validate`.

YAML is read with YAML 1.2 style scalars: only `true`/`false` are booleans (so `yes`, `no`, `on` stay
strings), dates stay strings ("YYYY-MM-DD"), and every non-integer number becomes an exact `Decimal`
built from the text in the file (0.1 stays 0.1). Numbers are canonical: integral values compare and
print as integers, others without trailing zeros, and at most 15 significant digits are allowed so a
number survives JSON and spreadsheets exactly.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from assessments.checks import Problem, check_framework, gates_region
from scoring.model import (
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
    Rule,
    Scale,
    Section,
    Source,
    Target,
    Text,
)
from scoring.types import kind_of
from scoring.types.number import NUMBER_LIMIT

__all__ = [
    "DEFAULT_MODE",
    "STATUSES",
    "FrameworkError",
    "FrameworkFile",
    "FrameworkNotFound",
    "Problem",
    "build",
    "canonical_decimal",
    "default_root",
    "file_sha256",
    "framework_file",
    "framework_paths",
    "list_frameworks",
    "load_all",
    "load_file",
    "load_framework",
    "parse_data",
    "parse_text",
    "read_file",
    "read_yaml",
    "repo_root",
    "semver_key",
    "versions",
]

STATUSES = ("draft", "published")
DEFAULT_MODE = Mode("default", Text("默认", "Default"))
MAX_DIGITS = 15  # significant digits of a non-integral number: what a float (JSON, XLSX) keeps exactly

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FACT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
VALUE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)

# Keys of each mapping in the file format: (required, optional).
FRAMEWORK_KEYS = (
    ("id", "version", "title", "description", "sections"),
    (
        "status",
        "notes",
        "changes",
        "scale",
        "near_margin",
        "evidence_cap",
        "modes",
        "scales",
        "gates",
        "targets",
    ),
)
MODE_KEYS = (("id", "title"), ("description", "screening"))
SCALE_KEYS = (("id", "title", "levels"), ())
LEVEL_KEYS = (("value", "percent", "label"), ("descriptor",))
SECTION_KEYS = (("id", "title", "items"), ("description", "points"))
ITEM_KEYS = (
    ("id", "text", "help", "action", "type", "sources"),
    (
        "points",
        "fact",
        "options",
        "bands",
        "scale",
        "min",
        "max",
        "unit",
        "evidence",
        "evidence_required",
        "applies_if",
        "gate",
        "allow_na",
        "required",
        "effort",
        "narrative",
    ),
)
OPTION_KEYS = (("value", "label", "points"), ())
BAND_KEYS = (("points",), ("min", "max", "label"))
GATE_KEYS = (("id", "title", "passes_if"), ("sources", "rule", "exempt_if"))
# The versions released before a target declared its region scope (`region:`): their targets' region
# is derived from their location gates (`with_regions`), so that their results score as they always
# did. A released file never changes, so its id and version name its bytes (a changed file is refused:
# "released version changed"). Every later version declares the scope and the validator checks it
# against the location gates.
SCOPE_FROM_GATES: frozenset[tuple[str, str]] = frozenset(
    (fid, version)
    for fid in (
        "chief-quality-officer",
        "labelling-four-100",
        "performance-excellence",
        "pinzibiao",
        "standards-adoption",
    )
    for version in ("1.0.0", "1.1.0")
)
TARGET_KEYS = (("id", "title", "threshold", "gates"), ("description", "sources", "rule", "region"))
RULE_KEYS = ((), ("document", "issuer", "date", "in_force_from", "in_force_to", "unconfirmed", "assumption"))
RULE_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")  # "2022", "2022-08" or "2022-08-15"
SOURCE_KEYS = ((), ("doc", "quote", "standard", "verify", "note"))
TEXT_KEYS = (("zh", "en"), ())
CONDITION_SUBJECTS = ("item", "profile")
CONDITION_OPS = tuple(op.value for op in Op)

# The type-specific keys of an item: each answer type names those it uses (`scoring.types`).
TYPE_KEYS = ("options", "bands", "scale", "min", "max", "unit")


class FrameworkError(ValueError):
    """A framework file (or dict, or workbook) that cannot be used; `problems` says why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"… and {len(self.problems) - 20} more")
        super().__init__("invalid framework:\n" + "\n".join(lines))


class FrameworkNotFound(LookupError):
    """No framework with that id (or no such version of it)."""


@dataclass(frozen=True)
class FrameworkFile:
    """A framework as loaded from its file, with what the file says beyond the engine's types."""

    framework: Framework
    path: Path
    status: str  # "draft" | "published"
    sha256: str

    @property
    def id(self) -> str:
        return self.framework.id

    @property
    def version(self) -> str:
        return self.framework.version

    @property
    def title(self) -> Text:
        return self.framework.title

    @property
    def item_count(self) -> int:
        return len(self.framework.items)

    @property
    def published(self) -> bool:
        return self.status == "published"


# --------------------------------------------------------------------------------------------------
# Locations


def repo_root() -> Path:
    """The repository root (the directory holding `assessments/`)."""
    return Path(__file__).resolve().parent.parent


def default_root() -> Path:
    """The directory of framework files: $QREADY_FRAMEWORKS_DIR or `assessments/frameworks`."""
    env = os.environ.get("QREADY_FRAMEWORKS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "frameworks"


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------
# Numbers and versions


def canonical_decimal(value: Decimal) -> Decimal:
    """The canonical form of a number: an integer when integral, else without trailing zeros."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _to_decimal(value: object) -> Decimal | None:
    """A finite number as a canonical Decimal; None when `value` is not a number (bools are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return canonical_decimal(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return canonical_decimal(value)
    return None


def _too_precise(value: Decimal) -> bool:
    if value == value.to_integral_value():
        return False
    return len(value.normalize().as_tuple().digits) > MAX_DIGITS


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key in semantic-version order (a pre-release sorts before its release).

    A string that is not a semantic version sorts first (it is reported by validation anyway).
    """
    m = SEMVER_RE.match(version)
    if m is None:
        return (-1, -1, -1, -1, ())
    pre = m.group(4)
    if pre is None:
        return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 1, ())
    parts: list[tuple[int, int | str]] = []
    for part in pre.split("."):
        parts.append((0, int(part)) if part.isdigit() else (1, part))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0, tuple(parts))


# --------------------------------------------------------------------------------------------------
# YAML reading


_BOOL_TAG = "tag:yaml.org,2002:bool"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


try:
    from yaml import CSafeLoader as _BaseLoader  # libyaml: ten times faster
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """SafeLoader with YAML 1.2 booleans, no implicit dates, Decimal floats, no duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key_node.value!r}",
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)

    def construct_decimal(self, node: yaml.ScalarNode) -> object:
        text = str(self.construct_scalar(node)).replace("_", "")
        try:
            return Decimal(text)
        except InvalidOperation:
            return self.construct_yaml_float(node)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(  # type: ignore[no-untyped-call]
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_constructor(_FLOAT_TAG, _Loader.construct_decimal)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)


def read_yaml(text: str) -> object:
    """Parse YAML text the way framework files are read (see the module docstring)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


# --------------------------------------------------------------------------------------------------
# Building the model from plain data


class _Parser:
    """Turns the plain data of one framework file into a `Framework`, collecting problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.modes: tuple[Mode, ...] = (DEFAULT_MODE,)

    def err(self, where: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    # --- generic values

    def mapping(
        self, value: object, path: str, where: str | None, keys: tuple[tuple[str, ...], tuple[str, ...]]
    ) -> dict[str, object] | None:
        required, optional = keys
        if not isinstance(value, dict):
            self.err(where, f"{path}: expected a mapping, got {_kind(value)}")
            return None
        known = (*required, *optional)
        out: dict[str, object] = {}
        for key, val in value.items():
            if not isinstance(key, str):
                self.err(where, f"{path}: key {key!r} is not a string")
                continue
            if key not in known:
                hint = difflib.get_close_matches(key, known, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else f"; known keys: {', '.join(known)}"
                self.err(where, f"{path}: unknown key {key!r}{suffix}")
                continue
            out[key] = val
        for key in required:
            if key not in out:
                self.err(where, f"{path}: missing required key {key!r}")
        return out

    def list_(self, value: object, path: str, where: str | None) -> list[object]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(where, f"{path}: expected a list, got {_kind(value)}")
            return []
        return value

    def text(self, value: object, path: str, where: str | None) -> Text | None:
        m = self.mapping(value, path, where, TEXT_KEYS)
        if m is None:
            return None
        out: dict[str, str] = {}
        for lang in ("zh", "en"):
            if lang not in m:
                continue
            s = m[lang]
            if not isinstance(s, str):
                self.err(where, f"{path}.{lang}: expected a string, got {_kind(s)}")
            elif not s.strip():
                self.err(where, f"{path}.{lang}: empty text (zh and en are both required)")
            else:
                out[lang] = s
        if len(out) != 2:
            return None
        return Text(zh=out["zh"], en=out["en"])

    def opt_text(self, m: Mapping[str, object], key: str, path: str, where: str | None) -> Text | None:
        if m.get(key) is None:
            if key in m:
                self.err(where, f"{path}.{key}: empty value (omit the key instead)")
            return None
        return self.text(m[key], f"{path}.{key}", where)

    def string(self, value: object, path: str, where: str | None) -> str | None:
        if not isinstance(value, str):
            hint = " (quote it)" if isinstance(value, (bool, int, Decimal, float)) else ""
            self.err(where, f"{path}: expected a string, got {_kind(value)}{hint}")
            return None
        if not value.strip():
            self.err(where, f"{path}: empty string")
            return None
        return value

    def ident(self, value: object, path: str, where: str | None) -> str | None:
        s = self.string(value, path, where)
        if s is not None and not ID_RE.match(s):
            self.err(where, f"{path}: {s!r} is not a valid id (lowercase letters, digits and '-')")
            return None
        return s

    def value_name(self, value: object, path: str, where: str | None) -> str | None:
        s = self.string(value, path, where)
        if s is not None and not VALUE_RE.match(s):
            self.err(where, f"{path}: {s!r} is not a valid value (lowercase letters, digits, '-' and '_')")
            return None
        return s

    def boolean(self, m: Mapping[str, object], key: str, default: bool, path: str, where: str | None) -> bool:
        if key not in m:
            return default
        value = m[key]
        if not isinstance(value, bool):
            self.err(where, f"{path}.{key}: expected true or false, got {_kind(value)}")
            return default
        return value

    def number(self, value: object, path: str, where: str | None) -> Decimal | None:
        d = _to_decimal(value)
        if d is None:
            self.err(where, f"{path}: expected a number, got {_kind(value)}")
            return None
        if _too_precise(d):
            self.err(where, f"{path}: {d} has more than {MAX_DIGITS} significant digits")
            return None
        return d

    def opt_number(self, m: Mapping[str, object], key: str, path: str, where: str | None) -> Decimal | None:
        if key not in m:
            return None
        return self.number(m[key], f"{path}.{key}", where)

    # --- framework parts

    def framework(self, data: object) -> tuple[Framework | None, str]:
        m = self.mapping(data, "framework", None, FRAMEWORK_KEYS)
        if m is None:
            return None, "draft"
        fid = self.ident(m.get("id"), "id", None) if "id" in m else None
        version = None
        if "version" in m:
            version = self.string(m["version"], "version", None)
            if version is not None and not SEMVER_RE.match(version):
                self.err(None, f'version: {version!r} is not a semantic version like "1.0.0"')
                version = None
        status = "draft"
        if "status" in m:
            s = self.string(m["status"], "status", None)
            if s is not None and s not in STATUSES:
                self.err(None, f"status: {s!r} is not one of {', '.join(STATUSES)}")
            elif s is not None:
                status = s
        title = self.text(m["title"], "title", None) if "title" in m else None
        description = self.text(m["description"], "description", None) if "description" in m else None
        notes = self.opt_text(m, "notes", "framework", None)
        changes = [
            self.text(x, f"changes[{i}]", None)
            for i, x in enumerate(self.list_(m.get("changes"), "changes", None))
        ]
        scale = self.opt_number(m, "scale", "framework", None)
        near_margin = self.opt_number(m, "near_margin", "framework", None)
        evidence_cap = self.opt_number(m, "evidence_cap", "framework", None)
        if "modes" in m:
            modes = [self.mode(x, f"modes[{i}]") for i, x in enumerate(self.list_(m["modes"], "modes", None))]
            if not modes:
                self.err(None, "modes: at least one mode (or omit the key for the single mode 'default')")
            self.modes = tuple(x for x in modes if x is not None) or (DEFAULT_MODE,)
        scales = [
            self.scale(x, f"scales[{i}]") for i, x in enumerate(self.list_(m.get("scales"), "scales", None))
        ]
        raw_sections = self.list_(m.get("sections"), "sections", None)
        if "sections" in m and not raw_sections:
            self.err(None, "sections: at least one section")
        sections = [self.section(x, f"sections[{i}]") for i, x in enumerate(raw_sections)]
        gates = [self.gate(x, f"gates[{i}]") for i, x in enumerate(self.list_(m.get("gates"), "gates", None))]
        targets = [
            self.target(x, f"targets[{i}]")
            for i, x in enumerate(self.list_(m.get("targets"), "targets", None))
        ]
        if self.problems or fid is None or version is None or title is None or description is None:
            return None, status
        defaults = Framework(id=fid, version=version, title=title, description=description, sections=())
        fw = Framework(
            id=fid,
            version=version,
            title=title,
            description=description,
            sections=tuple(s for s in sections if s is not None),
            targets=(
                with_regions(
                    tuple(t for t in targets if t is not None), tuple(g for g in gates if g is not None)
                )
                if (fid, version) in SCOPE_FROM_GATES
                else tuple(t for t in targets if t is not None)
            ),
            gates=tuple(g for g in gates if g is not None),
            scales=tuple(s for s in scales if s is not None),
            modes=self.modes,
            scale=defaults.scale if scale is None else scale,
            near_margin=defaults.near_margin if near_margin is None else near_margin,
            evidence_cap=defaults.evidence_cap if evidence_cap is None else evidence_cap,
            notes=notes,
            changes=tuple(c for c in changes if c is not None),
        )
        return fw, status

    def mode(self, value: object, path: str) -> Mode | None:
        where = _peek_id(value)
        m = self.mapping(value, path, where, MODE_KEYS)
        if m is None:
            return None
        mid = self.ident(m.get("id"), f"{path}.id", where) if "id" in m else None
        title = self.text(m["title"], f"{path}.title", where) if "title" in m else None
        description = self.opt_text(m, "description", path, where)
        screening = self.boolean(m, "screening", False, path, where)
        if mid is None or title is None:
            return None
        return Mode(id=mid, title=title, description=description, screening=screening)

    def scale(self, value: object, path: str) -> Scale | None:
        where = _peek_id(value)
        m = self.mapping(value, path, where, SCALE_KEYS)
        if m is None:
            return None
        sid = self.ident(m.get("id"), f"{path}.id", where) if "id" in m else None
        title = self.text(m["title"], f"{path}.title", where) if "title" in m else None
        levels = [
            self.level(x, f"{path}.levels[{i}]", where)
            for i, x in enumerate(self.list_(m.get("levels"), f"{path}.levels", where))
        ]
        if "levels" in m and not levels:
            self.err(where, f"{path}.levels: at least one level")
        if sid is None or title is None or any(lv is None for lv in levels):
            return None
        return Scale(id=sid, title=title, levels=tuple(lv for lv in levels if lv is not None))

    def level(self, value: object, path: str, where: str | None) -> Level | None:
        m = self.mapping(value, path, where, LEVEL_KEYS)
        if m is None:
            return None
        val = self.value_name(m.get("value"), f"{path}.value", where) if "value" in m else None
        percent = self.number(m["percent"], f"{path}.percent", where) if "percent" in m else None
        label = self.text(m["label"], f"{path}.label", where) if "label" in m else None
        descriptor = self.opt_text(m, "descriptor", path, where)
        if val is None or percent is None or label is None:
            return None
        return Level(value=val, percent=percent, label=label, descriptor=descriptor)

    def section(self, value: object, path: str) -> Section | None:
        where = _peek_id(value)
        m = self.mapping(value, path, where, SECTION_KEYS)
        if m is None:
            return None
        sid = self.ident(m.get("id"), f"{path}.id", where) if "id" in m else None
        title = self.text(m["title"], f"{path}.title", where) if "title" in m else None
        description = self.opt_text(m, "description", path, where)
        declared = self.opt_number(m, "points", path, where)
        raw_items = self.list_(m.get("items"), f"{path}.items", where)
        if "items" in m and not raw_items:
            self.err(where, f"{path}.items: at least one item")
        items = [self.item(x, f"{path}.items[{i}]") for i, x in enumerate(raw_items)]
        if sid is None or title is None:
            return None
        sec = Section(
            id=sid, title=title, items=tuple(i for i in items if i is not None), description=description
        )
        if declared is not None:
            total = sum((i.max_points for i in sec.items), Decimal(0))
            if total != declared:
                self.err(sid, f"section points: declared {declared}, but its items' points sum to {total}")
        return sec

    def item(self, value: object, path: str) -> Item | None:
        where = _peek_id(value)
        m = self.mapping(value, path, where, ITEM_KEYS)
        if m is None:
            return None
        iid = self.ident(m.get("id"), f"{path}.id", where) if "id" in m else None
        texts = {
            k: self.text(m[k], f"{path}.{k}", where) if k in m else None for k in ("text", "help", "action")
        }
        atype: AnswerType | None = None
        if "type" in m:
            t = self.string(m["type"], f"{path}.type", where)
            if t is not None:
                try:
                    atype = AnswerType(t)
                except ValueError:
                    choices = ", ".join(a.value for a in AnswerType)
                    self.err(where, f"{path}.type: {t!r} is not one of {choices}")
        kind = kind_of(atype) if atype is not None else None
        if kind is not None:
            for key in TYPE_KEYS:
                if key in m and key not in kind.keys:
                    self.err(where, f"{path}.{key}: not used by a {kind.type.value} item")
        needed = kind.needs if kind is not None and kind.needs not in m else None
        needs = f"{path}: a {kind.type.value} item needs '{needed}'" if kind is not None else ""
        points: Decimal | None = Decimal(0)
        if "points" in m:
            points = self.number(m["points"], f"{path}.points", where)
            if points is not None and points < 0:
                self.err(where, f"{path}.points: must not be negative")
        elif kind is not None and kind.scored:
            self.err(where, f"{path}: missing required key 'points'")
            points = None
        if kind is not None and not kind.scored and points:
            self.err(where, f"{path}.points: a {kind.type.value} item earns no points (use 0 or omit)")
        options: list[Option | None] = []
        if "options" in m:
            options = [
                self.option(x, f"{path}.options[{i}]", where)
                for i, x in enumerate(self.list_(m["options"], f"{path}.options", where))
            ]
        elif needed == "options":
            self.err(where, needs)
        bands: list[Band | None] = []
        if "bands" in m:
            bands = [
                self.band(x, f"{path}.bands[{i}]", where)
                for i, x in enumerate(self.list_(m["bands"], f"{path}.bands", where))
            ]
        elif needed == "bands":
            self.err(where, needs)
        scales: tuple[tuple[str, str], ...] = ()
        if "scale" in m:
            scales = self.item_scales(m["scale"], f"{path}.scale", where)
        elif needed == "scale":
            self.err(where, needs)
        min_value = self.opt_number(m, "min", path, where)
        max_value = self.opt_number(m, "max", path, where)
        for key, bound in (("min", min_value), ("max", max_value)):
            if bound is not None and bound.copy_abs() > NUMBER_LIMIT:
                self.err(where, f"{path}.{key}: {bound} is beyond what any answer may be (10^15 in size)")
        unit = self.opt_text(m, "unit", path, where)
        evidence = self.opt_text(m, "evidence", path, where)
        fact = None
        if "fact" in m:
            fact = self.string(m["fact"], f"{path}.fact", where)
            if fact is not None and not FACT_RE.match(fact):
                self.err(where, f"{path}.fact: {fact!r} is not a fact key (lowercase, digits and '_')")
                fact = None
        effort = Effort.MEDIUM
        if "effort" in m:
            e = self.string(m["effort"], f"{path}.effort", where)
            if e is not None:
                try:
                    effort = Effort(e)
                except ValueError:
                    self.err(where, f"{path}.effort: {e!r} is not one of low, medium, high")
        narrative: list[str] = []
        for i, x in enumerate(self.list_(m.get("narrative"), f"{path}.narrative", where)):
            s = self.ident(x, f"{path}.narrative[{i}]", where)
            if s is not None:
                narrative.append(s)
        applies_if = [
            self.condition(x, f"{path}.applies_if[{i}]", where)
            for i, x in enumerate(self.list_(m.get("applies_if"), f"{path}.applies_if", where))
        ]
        raw_sources = self.list_(m.get("sources"), f"{path}.sources", where)
        if "sources" in m and not raw_sources:
            self.err(where, f"{path}.sources: at least one source")
        sources = [self.source(x, f"{path}.sources[{i}]", where) for i, x in enumerate(raw_sources)]
        flags = {
            "evidence_required": self.boolean(m, "evidence_required", False, path, where),
            "gate": self.boolean(m, "gate", False, path, where),
            "allow_na": self.boolean(m, "allow_na", True, path, where),
            "required": self.boolean(m, "required", True, path, where),
        }
        text, help_, action = texts["text"], texts["help"], texts["action"]
        if (
            iid is None
            or text is None
            or help_ is None
            or action is None
            or atype is None
            or points is None
            or any(x is None for x in (*options, *bands, *applies_if, *sources))
        ):
            return None
        return Item(
            id=iid,
            text=text,
            help=help_,
            action=action,
            answer_type=atype,
            max_points=points,
            options=tuple(o for o in options if o is not None),
            bands=tuple(b for b in bands if b is not None),
            scales=scales,
            min_value=min_value,
            max_value=max_value,
            unit=unit,
            evidence=evidence,
            evidence_required=flags["evidence_required"],
            applies_if=tuple(c for c in applies_if if c is not None),
            gate=flags["gate"],
            allow_na=flags["allow_na"],
            required=flags["required"],
            effort=effort,
            sources=tuple(s for s in sources if s is not None),
            fact=fact,
            narrative_modes=tuple(narrative),
        )

    def item_scales(self, value: object, path: str, where: str | None) -> tuple[tuple[str, str], ...]:
        """`scale: id` (every mode) or `scale: {mode: id, …}`, in the framework's mode order."""
        if isinstance(value, str):
            sid = self.ident(value, path, where)
            return tuple((mode.id, sid) for mode in self.modes) if sid is not None else ()
        if not isinstance(value, dict):
            self.err(where, f"{path}: expected a scale id or a mapping mode -> scale id, got {_kind(value)}")
            return ()
        pairs: dict[str, str] = {}
        for mode, sid in value.items():
            mode_id = self.ident(mode, f"{path} (mode)", where)
            scale_id = self.ident(sid, f"{path}.{mode}", where)
            if mode_id is not None and scale_id is not None:
                pairs[mode_id] = scale_id
        order = [mode.id for mode in self.modes]
        known = [(mode, pairs[mode]) for mode in order if mode in pairs]
        unknown = [(mode, sid) for mode, sid in pairs.items() if mode not in order]
        return tuple(known + unknown)

    def option(self, value: object, path: str, where: str | None) -> Option | None:
        m = self.mapping(value, path, where, OPTION_KEYS)
        if m is None:
            return None
        val = self.value_name(m.get("value"), f"{path}.value", where) if "value" in m else None
        label = self.text(m["label"], f"{path}.label", where) if "label" in m else None
        points = self.number(m["points"], f"{path}.points", where) if "points" in m else None
        if val is None or label is None or points is None:
            return None
        return Option(value=val, label=label, points=points)

    def band(self, value: object, path: str, where: str | None) -> Band | None:
        m = self.mapping(value, path, where, BAND_KEYS)
        if m is None:
            return None
        low = self.opt_number(m, "min", path, where)
        high = self.opt_number(m, "max", path, where)
        points = self.number(m["points"], f"{path}.points", where) if "points" in m else None
        label = self.opt_text(m, "label", path, where)
        if points is None or ("min" in m and low is None) or ("max" in m and high is None):
            return None
        return Band(min=low, max=high, points=points, label=label)

    def condition(self, value: object, path: str, where: str | None) -> Condition | None:
        m = self.mapping(value, path, where, ((), (*CONDITION_SUBJECTS, *CONDITION_OPS)))
        if m is None:
            return None
        subjects = [k for k in CONDITION_SUBJECTS if k in m]
        ops = [k for k in CONDITION_OPS if k in m]
        if len(subjects) != 1:
            self.err(where, f"{path}: needs exactly one of 'item' or 'profile'")
            return None
        if len(ops) != 1:
            self.err(where, f"{path}: needs exactly one operator of {', '.join(CONDITION_OPS)}")
            return None
        subject = self.string(m[subjects[0]], f"{path}.{subjects[0]}", where)
        op = Op(ops[0])
        raw = m[ops[0]]
        cvalue: object
        if op is Op.IN:
            if not isinstance(raw, list) or not raw:
                self.err(where, f"{path}.in: expected a non-empty list")
                return None
            values = [self.condition_value(x, f"{path}.in[{i}]", where) for i, x in enumerate(raw)]
            if any(v is None for v in values):
                return None
            cvalue = tuple(values)
        else:
            cvalue = self.condition_value(raw, f"{path}.{op.value}", where)
            if cvalue is None:
                return None
            if op in (Op.GTE, Op.LTE) and not isinstance(cvalue, (Decimal, str)):
                self.err(where, f"{path}.{op.value}: expected a number or a date")
                return None
            if op in (Op.YEARS_GTE, Op.YEARS_LT) and not (isinstance(cvalue, Decimal) and cvalue >= 0):
                self.err(where, f"{path}.{op.value}: expected a number of years (0 or more)")
                return None
        if subject is None:
            return None
        if subjects[0] == "item":
            return Condition(op=op, value=cvalue, item=subject)
        return Condition(op=op, value=cvalue, profile=subject)

    def condition_value(self, value: object, path: str, where: str | None) -> object:
        if isinstance(value, (bool, str)):
            return value
        d = _to_decimal(value)
        if d is not None:
            return self.number(d, path, where)
        self.err(where, f"{path}: expected true/false, a string or a number, got {_kind(value)}")
        return None

    def source(self, value: object, path: str, where: str | None) -> Source | None:
        m = self.mapping(value, path, where, SOURCE_KEYS)
        if m is None:
            return None
        has_doc, has_quote, has_standard = "doc" in m, "quote" in m, "standard" in m
        if has_standard and (has_doc or has_quote):
            self.err(where, f"{path}: either {{doc, quote}} or {{standard}}, not both")
            return None
        if not has_standard and not (has_doc and has_quote):
            self.err(where, f"{path}: needs 'doc' and 'quote' (a seed plan) or 'standard'")
            return None
        doc = self.string(m["doc"], f"{path}.doc", where) if has_doc else None
        quote = self.string(m["quote"], f"{path}.quote", where) if has_quote else None
        standard = self.string(m["standard"], f"{path}.standard", where) if has_standard else None
        note = self.string(m["note"], f"{path}.note", where) if "note" in m else None
        verify = self.boolean(m, "verify", False, path, where)
        if (has_doc and doc is None) or (has_quote and quote is None) or (has_standard and standard is None):
            return None
        if "note" in m and note is None:
            return None
        return Source(doc=doc, quote=quote, standard=standard, verify=verify, note=note)

    def gate(self, value: object, path: str) -> Gate | None:
        where = _peek_id(value)
        m = self.mapping(value, path, where, GATE_KEYS)
        if m is None:
            return None
        gid = self.ident(m.get("id"), f"{path}.id", where) if "id" in m else None
        title = self.text(m["title"], f"{path}.title", where) if "title" in m else None
        cond = self.condition(m["passes_if"], f"{path}.passes_if", where) if "passes_if" in m else None
        sources = [
            self.source(x, f"{path}.sources[{i}]", where)
            for i, x in enumerate(self.list_(m.get("sources"), f"{path}.sources", where))
        ]
        rule = self.rule(m["rule"], f"{path}.rule", where) if "rule" in m else None
        exempt = self.condition(m["exempt_if"], f"{path}.exempt_if", where) if "exempt_if" in m else None
        if gid is None or title is None or cond is None or any(s is None for s in sources):
            return None
        if ("rule" in m and rule is None) or ("exempt_if" in m and exempt is None):
            return None
        return Gate(
            id=gid,
            passes_if=cond,
            title=title,
            sources=tuple(s for s in sources if s is not None),
            rule=rule,
            exempt_if=exempt,
        )

    def rule(self, value: object, path: str, where: str | None) -> Rule | None:
        """A rule's provenance: a document (number, issuer, date, in force from / to, unconfirmed: why
        it is not confirmed) or an assumption (why QReady assumes it)."""
        m = self.mapping(value, path, where, RULE_KEYS)
        if m is None:
            return None
        ok = True
        strings: dict[str, str | None] = {}
        for key in ("document", "issuer", "date", "in_force_from", "in_force_to"):
            if key not in m:
                strings[key] = None
                continue
            v = self.string(m[key], f"{path}.{key}", where)
            if v is None:
                ok = False
            elif key in ("date", "in_force_from", "in_force_to") and not RULE_DATE_RE.match(v):
                self.err(where, f'{path}.{key}: {v!r} is not a date like "2022", "2022-08" or "2022-08-15"')
                ok = False
            strings[key] = v
        unconfirmed = self.opt_text(m, "unconfirmed", path, where)
        assumption = self.opt_text(m, "assumption", path, where)
        if ("unconfirmed" in m and unconfirmed is None) or ("assumption" in m and assumption is None):
            ok = False
        if assumption is not None and any(strings.values()):
            self.err(
                where, f"{path}: an assumption names no document (give either the document or the assumption)"
            )
            ok = False
        if assumption is None and "assumption" not in m and strings["document"] is None:
            self.err(where, f"{path}: needs 'document' (with issuer and date) or 'assumption' (the reason)")
            ok = False
        if strings["document"] is not None and strings["date"] is None:
            self.err(where, f"{path}: a document needs its 'date' (and its 'issuer' where known)")
            ok = False
        if not ok:
            return None
        return Rule(
            document=strings["document"],
            issuer=strings["issuer"],
            date=strings["date"],
            in_force_from=strings["in_force_from"],
            in_force_to=strings["in_force_to"],
            unconfirmed=unconfirmed,
            assumption=assumption,
        )

    def target(self, value: object, path: str) -> Target | None:
        where = _peek_id(value)
        m = self.mapping(value, path, where, TARGET_KEYS)
        if m is None:
            return None
        tid = self.ident(m.get("id"), f"{path}.id", where) if "id" in m else None
        title = self.text(m["title"], f"{path}.title", where) if "title" in m else None
        description = self.opt_text(m, "description", path, where)
        threshold = self.number(m["threshold"], f"{path}.threshold", where) if "threshold" in m else None
        gates: list[str] = []
        for i, x in enumerate(self.list_(m.get("gates"), f"{path}.gates", where)):
            g = self.ident(x, f"{path}.gates[{i}]", where)
            if g is not None:
                gates.append(g)
        sources = [
            self.source(x, f"{path}.sources[{i}]", where)
            for i, x in enumerate(self.list_(m.get("sources"), f"{path}.sources", where))
        ]
        rule = self.rule(m["rule"], f"{path}.rule", where) if "rule" in m else None
        # the region scope: GB/T 2260 code prefixes (their shape is checked by the validator)
        region = [
            self.string(x, f"{path}.region[{i}]", where)
            for i, x in enumerate(self.list_(m.get("region"), f"{path}.region", where))
        ]
        if tid is None or title is None or threshold is None or any(s is None for s in sources):
            return None
        if ("rule" in m and rule is None) or any(r is None for r in region):
            return None
        return Target(
            id=tid,
            title=title,
            gates=tuple(gates),
            threshold=threshold,
            sources=tuple(s for s in sources if s is not None),
            description=description,
            region=tuple(r for r in region if r is not None),
            rule=rule,
        )


def with_regions(targets: tuple[Target, ...], gates: tuple[Gate, ...]) -> tuple[Target, ...]:
    """Each target of a version released before the region scope was declared (`SCOPE_FROM_GATES`)
    with its `region` derived from its location gates, as those versions were scored
    (docs/frameworks.md); a target that declares its `region` keeps it."""
    out = []
    for t in targets:
        region = t.region or gates_region(t, gates)
        out.append(dataclasses.replace(t, region=region) if region != t.region else t)
    return tuple(out)


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float, Decimal)):
        return f"a number ({value})"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:40] + "…"
        return f"a string ({short!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _peek_id(value: object) -> str | None:
    if isinstance(value, dict):
        v = value.get("id")
        if isinstance(v, str) and v:
            return v
    return None


def parse_data(data: object, file: str = "<data>") -> tuple[Framework | None, str, list[Problem]]:
    """Build a framework from plain data in the file format: (framework or None, status, problems).

    Only the file format is checked here (keys, types, required values); see `load_file` and
    `assessments.validate` for the rest.
    """
    parser = _Parser(file)
    fw, status = parser.framework(data)
    return fw, status, parser.problems


def parse_text(text: str, file: str = "<text>") -> tuple[Framework | None, str, list[Problem]]:
    """`parse_data` for YAML text; a YAML syntax error is reported as a problem."""
    try:
        data = read_yaml(text)
    except yaml.YAMLError as exc:
        return None, "draft", [Problem(file, None, f"YAML error: {_yaml_error(exc)}")]
    return parse_data(data, file)


def _yaml_error(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())


def build(data: object, file: str = "<data>") -> tuple[Framework, str]:
    """Plain data -> a checked framework and its status; `FrameworkError` when anything is wrong."""
    fw, status, problems = parse_data(data, file)
    if fw is not None and not problems:
        problems = check_framework(fw, file)
    if fw is None or problems:
        raise FrameworkError(problems)
    return fw, status


# --------------------------------------------------------------------------------------------------
# Files


@functools.lru_cache(maxsize=256)
def _read_cached(path: str, mtime_ns: int, size: int) -> FrameworkFile:
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameworkError([Problem(path, None, f"not UTF-8: {exc}")]) from None
    fw, status, problems = parse_text(text, path)
    if fw is not None and not problems:
        problems = check_framework(fw, path)
    if fw is None or problems:
        raise FrameworkError(problems)
    digest = hashlib.sha256(data).hexdigest()
    return FrameworkFile(framework=fw, path=Path(path), status=status, sha256=digest)


def read_file(path: Path | str) -> FrameworkFile:
    """Load one framework file with its status, path and hash (cached by path and modification)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FrameworkNotFound(f"no framework file {path}") from None
    return _read_cached(str(p), st.st_mtime_ns, st.st_size)


def load_file(path: Path | str) -> Framework:
    """Load one framework file; `FrameworkError` (with its problems) when it is not valid."""
    return read_file(path).framework


def framework_paths(root: Path | str | None = None) -> list[Path]:
    """Every framework file under `root` (default: `default_root()`), i.e. `<id>/<version>.yaml`."""
    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob("*/*.yaml") if p.is_file())


def list_frameworks(root: Path | str | None = None) -> list[FrameworkFile]:
    """Every version of every framework under `root`, sorted by id then semantic version."""
    files = [read_file(p) for p in framework_paths(root)]
    return sorted(files, key=lambda f: (f.id, semver_key(f.version), f.version))


def load_all(root: Path | str | None = None) -> list[Framework]:
    """Every version of every framework under `root`, sorted by id then semantic version."""
    return [f.framework for f in list_frameworks(root)]


def versions(framework_id: str, root: Path | str | None = None) -> list[str]:
    """The versions of one framework, oldest first."""
    return [f.version for f in list_frameworks(root) if f.id == framework_id]


def framework_file(
    framework_id: str, version: str | None = None, root: Path | str | None = None
) -> FrameworkFile:
    """One framework version's file. Without `version`: the latest published version, or the latest
    version when none is published yet (semantic-version order)."""
    candidates = [f for f in list_frameworks(root) if f.id == framework_id]
    if not candidates:
        raise FrameworkNotFound(f"unknown framework {framework_id!r}")
    if version is None:
        published = [f for f in candidates if f.published]
        return (published or candidates)[-1]
    for f in candidates:
        if f.version == version:
            return f
    known = ", ".join(f.version for f in candidates)
    raise FrameworkNotFound(f"framework {framework_id!r} has no version {version!r} (known: {known})")


def load_framework(
    framework_id: str, version: str | None = None, root: Path | str | None = None
) -> Framework:
    """One framework version (see `framework_file` for which version `None` means)."""
    return framework_file(framework_id, version, root).framework
