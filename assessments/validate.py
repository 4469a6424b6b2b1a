"""Validation of framework files: everything that can be wrong with them, as a list of `Problem`s.

`check_framework` checks one framework on its own (ids, answer types, points, bands, scales,
conditions, gates, targets); `assessments.loader` refuses a framework that fails it. `validate_path`
adds what needs other files: the file layout, ids unique across all frameworks, the shared facts of
`assessments/facts.yaml`, the quotes of the seed plans (`../shared/seeds`, or $QREADY_SEEDS_DIR) and
the hashes of released versions (`released.json`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from assessments.checks import PROFILE_FACTS, REFERENCE_AS_OF, Problem, ProfileFact, check_framework
from assessments.loader import (
    FACT_RE,
    default_root,
    file_sha256,
    parse_text,
    read_file,
    read_yaml,
    repo_root,
)
from scoring.model import AnswerType, Framework, Text
from scoring.types import kind_of

__all__ = [
    "PROFILE_FACTS",
    "REFERENCE_AS_OF",
    "Fact",
    "Problem",
    "ProfileFact",
    "ReleaseError",
    "check_framework",
    "facts_path",
    "find_quote",
    "flatten_seed",
    "load_facts",
    "load_released",
    "release",
    "released_path",
    "seeds_dir",
    "validate_path",
]

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
BOOKMARK_RE = re.compile(r"\[bookmark: [^\]]*\]")
# Released before rules carried their provenance (`rule`): exempt from the provenance check while their
# bytes are these (a changed file is refused anyway: "released version changed").
PRE_PROVENANCE: dict[str, str] = {
    "chief-quality-officer/1.0.0": "2f0af6defc695f9d981cbf0a44521584322246117b11f73671f0a5b9a34eb236",
    "labelling-four-100/1.0.0": "d6cc93b79458637e9402951f1173ba9e76265d4354e70c14e64103e1998f0936",
    "performance-excellence/1.0.0": "7b93c5a0976a7b7f4f046916506bcbeeed7fe374e9105220a688a75b9e3be0ae",
    "pinzibiao/1.0.0": "ad1ef719170546797e9ee66762f9e55d39573e88ec4f2f284370a62c32f23b38",
    "standards-adoption/1.0.0": "90399845ce3bbdea11a3b0af617993471941d4a0ee19fb73a3bb546981846fa1",
}


@dataclass(frozen=True)
class Fact:
    """A shared fact of `assessments/facts.yaml`: one answer, used by every framework asking it."""

    key: str
    type: AnswerType
    title: Text
    options: tuple[str, ...] = ()


class ReleaseError(Exception):
    """A version cannot be released (invalid, a draft, or released before with other content)."""


# --------------------------------------------------------------------------------------------------
# Locations


def seeds_dir() -> Path:
    """The seed plans: $QREADY_SEEDS_DIR, else `shared/seeds` next to the repository."""
    env = os.environ.get("QREADY_SEEDS_DIR")
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "seeds"


def facts_path() -> Path:
    return Path(__file__).resolve().parent / "facts.yaml"


def released_path(root: Path | str | None = None) -> Path:
    return (Path(root) if root is not None else default_root()) / "released.json"


# --------------------------------------------------------------------------------------------------
# Shared facts


def load_facts(path: Path | str | None = None) -> tuple[dict[str, Fact], list[Problem]]:
    """The shared facts of `assessments/facts.yaml` and the problems of that file."""
    p = Path(path) if path is not None else facts_path()
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError:
        return {}, [Problem(str(p), None, "facts file missing")]
    facts, problems = _facts_cached(str(p), mtime)
    return dict(facts), list(problems)


@functools.lru_cache(maxsize=8)
def _facts_cached(path: str, mtime_ns: int) -> tuple[dict[str, Fact], tuple[Problem, ...]]:
    problems: list[Problem] = []

    def err(key: str | None, message: str) -> None:
        problems.append(Problem(path, key, message))

    try:
        data = read_yaml(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:  # a YAML or encoding error: report it, never crash validation
        err(None, f"cannot read: {' '.join(str(exc).split())}")
        return {}, tuple(problems)
    raw = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) != {"facts"} or not isinstance(raw, dict):
        err(None, "expected a mapping with the single key 'facts' (a mapping of fact keys)")
        return {}, tuple(problems)
    facts: dict[str, Fact] = {}
    for key, spec in raw.items():
        if not isinstance(key, str) or not FACT_RE.match(key):
            err(str(key), "not a fact key (lowercase letters, digits and '_')")
            continue
        if not isinstance(spec, dict):
            err(key, "expected a mapping {type, title, options?}")
            continue
        unknown = sorted(set(spec) - {"type", "title", "options"})
        if unknown:
            err(key, f"unknown keys {unknown}")
        try:
            atype = AnswerType(spec.get("type"))
        except ValueError:
            err(key, f"type: {spec.get('type')!r} is not an answer type")
            continue
        title = spec.get("title")
        if not (
            isinstance(title, dict)
            and set(title) == {"zh", "en"}
            and all(isinstance(v, str) and v.strip() for v in title.values())
        ):
            err(key, "title: expected {zh, en}, both non-empty")
            continue
        options = spec.get("options", [])
        if kind_of(atype).needs == "options":
            if (
                not isinstance(options, list)
                or len(options) < 2
                or not all(isinstance(o, str) for o in options)
            ):
                err(key, "options: a choice fact lists at least two option values")
                continue
            if len(set(options)) != len(options):
                err(key, "options: duplicate option values")
        elif "options" in spec:
            err(key, "options: only a choice fact has options")
            continue
        facts[key] = Fact(key=key, type=atype, title=Text(title["zh"], title["en"]), options=tuple(options))
    return facts, tuple(problems)


# --------------------------------------------------------------------------------------------------
# Seed plans and quotes


def flatten_seed(text: str) -> str:
    """A seed plan as quotes are matched against it: no line breaks, no `[bookmark: …]` artefacts."""
    return BOOKMARK_RE.sub("", text).replace("\r", "").replace("\n", "")


@functools.lru_cache(maxsize=16)
def _seed_cached(path: str, mtime_ns: int) -> str:
    return flatten_seed(Path(path).read_text(encoding="utf-8"))


def _seed(directory: Path, doc: str) -> str | None:
    if "/" in doc or "\\" in doc or doc.startswith("."):
        return None
    p = directory / doc
    try:
        return _seed_cached(str(p), p.stat().st_mtime_ns)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


_QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "＂": '"'})


def _loose(text: str) -> tuple[str, list[int]]:
    """`text` without whitespace, NFKC-normalised (full-width -> half-width), with each character's
    position in `text`."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).translate(_QUOTE_MARKS):
            if not c.isspace():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


@functools.lru_cache(maxsize=16)
def _loose_cached(text: str) -> tuple[str, tuple[int, ...]]:
    s, where = _loose(text)
    return s, tuple(where)


def find_quote(quote: str, doc: str, directory: Path | None = None) -> tuple[bool, str | None]:
    """Is `quote` in the seed `doc` verbatim (line breaks ignored)? When not: the seed's text that
    matches it up to spacing and character width, if any, to show what the quote should be."""
    text = _seed(directory if directory is not None else seeds_dir(), doc)
    if text is None:
        return False, None
    q = quote.replace("\r", "").replace("\n", "")
    if q in text:
        return True, None
    loose_q, _ = _loose(q)
    loose_text, where = _loose_cached(text)
    if not loose_q:
        return False, None
    start = loose_text.find(loose_q)
    if start < 0:
        return False, None
    return False, text[where[start] : where[start + len(loose_q) - 1] + 1]


# --------------------------------------------------------------------------------------------------
# Released versions


def load_released(root: Path | str | None = None) -> tuple[dict[str, str], list[Problem]]:
    """`released.json` of a frameworks directory: {"id/version": sha256} and its problems."""
    p = released_path(root)
    if not p.exists():
        return {}, []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [Problem(str(p), None, f"not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return {}, [Problem(str(p), None, 'expected an object {"id/version": "sha256"}')]
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for key, digest in data.items():
        if not re.match(r"^[a-z0-9-]+/[^/]+$", key):
            problems.append(Problem(str(p), key, 'key must be "<id>/<version>"'))
        elif not isinstance(digest, str) or not SHA256_RE.match(digest):
            problems.append(Problem(str(p), key, "value must be a SHA-256 hex digest"))
        else:
            out[key] = digest
    return out, problems


def release(framework_id: str, version: str, root: Path | str | None = None) -> str:
    """Record a version as released: add its file's SHA-256 to `released.json` and return it.

    The file must be valid and say `status: published`. Releasing again is a no-op; a version released
    before with other content raises `ReleaseError` (make a new version instead).
    """
    base = Path(root) if root is not None else default_root()
    path = base / framework_id / f"{version}.yaml"
    if not path.is_file():
        raise ReleaseError(f"no framework file {path}")
    problems = _validate([path], base, directory=False, check_released=False)
    if problems:
        raise ReleaseError("the file is not valid:\n" + "\n".join(str(p) for p in problems))
    ff = read_file(path)
    if ff.framework.id != framework_id or ff.framework.version != version:
        raise ReleaseError(f"{path} says {ff.framework.id}/{ff.framework.version}")
    if ff.status != "published":
        raise ReleaseError(f"{path} is a draft: set 'status: published' first")
    entries, rproblems = load_released(base)
    if rproblems:
        raise ReleaseError("\n".join(str(p) for p in rproblems))
    key = f"{framework_id}/{version}"
    digest = file_sha256(path)
    if key in entries and entries[key] != digest:
        raise ReleaseError(f"{key} was released with other content: make a new version")
    entries[key] = digest
    text = json.dumps(dict(sorted(entries.items())), indent=2, ensure_ascii=False) + "\n"
    released_path(base).write_text(text, encoding="utf-8")
    return digest


# --------------------------------------------------------------------------------------------------
# Files and directories


@dataclass
class _Checked:
    path: Path
    display: str
    framework: Framework | None
    status: str
    key: str | None  # "id/version" as the file's place in the directory says, when it follows the layout


def validate_path(path: Path | str | None = None) -> list[Problem]:
    """Validate a frameworks directory (default: `assessments/frameworks`) or one framework file.

    A directory: every `<id>/<version>.yaml` in it (and any misplaced YAML file below it), checked
    together (ids unique across all frameworks) and against its `released.json`. One file: that file,
    its ids checked against the other frameworks of its frameworks directory (the directory two levels
    up when that has a `released.json`, else the default one), and its release status.
    """
    target = Path(path) if path is not None else default_root()
    if not target.exists():
        return [Problem(str(target), None, "no such file or directory")]
    if target.is_dir():
        # <id>/<version>.yaml; files directly in the directory (released.json, coverage.yaml) are not
        # frameworks, YAML files anywhere else are misplaced frameworks.
        files = sorted(
            p
            for p in target.rglob("*")
            if p.is_file() and p.suffix in (".yaml", ".yml") and len(p.relative_to(target).parts) > 1
        )
        if not files:
            return [Problem(str(target), None, "no framework files (<id>/<version>.yaml)")]
        return _validate(files, target, directory=True, check_released=True)
    return _validate([target], target.parent.parent, directory=False, check_released=True)


def _in_layout(root: Path) -> bool:
    """Is a single file inside a frameworks directory (so it must follow `<id>/<version>.yaml`)?"""
    return (root / "released.json").exists() or root.resolve() == default_root().resolve()


def _validate(files: list[Path], root: Path, *, directory: bool, check_released: bool) -> list[Problem]:
    problems: list[Problem] = []
    checked: list[_Checked] = []
    for p in files:
        checked.append(_check_file(p, root, directory, problems))
    frameworks = [(c, c.framework) for c in checked if c.framework is not None]

    # the same framework version twice
    seen_versions: dict[tuple[str, str], str] = {}
    for c, fw in frameworks:
        k = (fw.id, fw.version)
        if k in seen_versions:
            problems.append(
                Problem(c.display, None, f"{fw.id} {fw.version} is also defined in {seen_versions[k]}")
            )
        else:
            seen_versions[k] = c.display

    # item ids unique across frameworks (a framework's versions share its ids)
    owners: dict[str, tuple[str, str]] = {}
    if not directory:
        for other in _other_frameworks(files[0], root if _in_layout(root) else default_root()):
            for item in other.items:
                owners.setdefault(item.id, (other.id, f"framework {other.id} {other.version}"))
    for c, fw in frameworks:
        for item in fw.items:
            owner = owners.get(item.id)
            if owner is not None and owner[0] != fw.id:
                problems.append(Problem(c.display, item.id, f"item id also used by {owner[1]}"))
            owners.setdefault(item.id, (fw.id, c.display))

    problems.extend(_check_facts(frameworks))
    problems.extend(_check_sources(frameworks))
    problems.extend(_check_provenance(frameworks))
    if check_released:
        problems.extend(_check_released(checked, root, directory))
    return problems


def _check_file(p: Path, root: Path, directory: bool, problems: list[Problem]) -> _Checked:
    display = str(p)
    key: str | None = None
    rel = p.relative_to(root).parts if p.is_relative_to(root) else ()
    if len(rel) == 2 and rel[1].endswith(".yaml"):
        key = f"{rel[0]}/{rel[1][: -len('.yaml')]}"
    elif directory:
        problems.append(Problem(display, None, "a framework file must be at <id>/<version>.yaml"))
    if not directory and not _in_layout(root):
        key = None
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(display, None, f"not UTF-8: {exc}"))
        return _Checked(p, display, None, "draft", key)
    fw, status, found = parse_text(text, display)
    if fw is not None and not found:
        found = check_framework(fw, display)
    problems.extend(found)
    if fw is not None and key is not None and key != f"{fw.id}/{fw.version}":
        problems.append(
            Problem(display, None, f"file says {fw.id} {fw.version}: it must be at {fw.id}/{fw.version}.yaml")
        )
    return _Checked(p, display, fw if not found else None, status, key)


def _other_frameworks(path: Path, base: Path) -> list[Framework]:
    """The frameworks of the directory `base` other than the file `path` (quietly skipping bad ones)."""
    out: list[Framework] = []
    if not base.is_dir():
        return out
    mine = path.resolve()
    for p in sorted(base.glob("*/*.yaml")):
        if p.resolve() == mine:
            continue
        try:
            fw, _, found = parse_text(p.read_text(encoding="utf-8"), str(p))
        except (OSError, UnicodeDecodeError):
            continue
        if fw is not None and not found:
            out.append(fw)
    return out


def _check_facts(frameworks: list[tuple[_Checked, Framework]]) -> list[Problem]:
    uses = [(c, item) for c, fw in frameworks for item in fw.items if item.fact is not None]
    if not uses:
        return []
    facts, problems = load_facts()
    first_bounds: dict[str, tuple[Decimal | None, Decimal | None, str]] = {}
    for c, item in uses:
        assert item.fact is not None
        fact = facts.get(item.fact)
        if fact is None:
            problems.append(
                Problem(c.display, item.id, f"fact: unknown fact {item.fact!r} (see assessments/facts.yaml)")
            )
            continue
        if item.answer_type is not fact.type:
            problems.append(
                Problem(
                    c.display,
                    item.id,
                    f"fact {item.fact!r} is a {fact.type.value} fact, the item is {item.answer_type.value}",
                )
            )
            continue
        if kind_of(fact.type).needs == "options":
            values = [o.value for o in item.options]
            if sorted(values) != sorted(fact.options):
                problems.append(
                    Problem(
                        c.display,
                        item.id,
                        f"fact {item.fact!r} has the options {list(fact.options)}, the item {values}",
                    )
                )
        if kind_of(fact.type).numeric:
            bounds = (item.min_value, item.max_value)
            first = first_bounds.setdefault(item.fact, (*bounds, item.id))
            if bounds != first[:2]:
                problems.append(
                    Problem(
                        c.display,
                        item.id,
                        f"fact {item.fact!r}: min/max {_bounds(*bounds)} differ from item {first[2]!r} "
                        f"{_bounds(first[0], first[1])} (one answer must fit every item asking it)",
                    )
                )
    return problems


def _bounds(lo: Decimal | None, hi: Decimal | None) -> str:
    return f"[{'' if lo is None else lo}, {'' if hi is None else hi}]"


def _check_sources(frameworks: list[tuple[_Checked, Framework]]) -> list[Problem]:
    cited: list[tuple[str, str, str, str]] = []  # (file, owner id, doc, quote)
    for c, fw in frameworks:
        owners = [
            *((item.id, item.sources) for item in fw.items),
            *((g.id, g.sources) for g in fw.gates),
            *((t.id, t.sources) for t in fw.targets),
        ]
        for owner, sources in owners:
            for s in sources:
                if s.doc is not None and s.quote is not None:
                    cited.append((c.display, owner, s.doc, s.quote))
    if not cited:
        return []
    directory = seeds_dir()
    if not directory.is_dir():
        return [
            Problem(
                str(directory), None, "seeds directory missing: quotes not checked (set QREADY_SEEDS_DIR)"
            )
        ]
    problems: list[Problem] = []
    names = sorted(p.name for p in directory.glob("*.txt"))
    for file, owner, doc, quote in cited:
        if _seed(directory, doc) is None:
            problems.append(
                Problem(file, owner, f"source: unknown seed document {doc!r} (seeds: {', '.join(names)})")
            )
            continue
        found, near = find_quote(quote, doc, directory)
        if found:
            continue
        if near is not None:
            problems.append(
                Problem(file, owner, f"quote not verbatim in {doc}: {quote!r}; the seed has {near!r}")
            )
        else:
            problems.append(Problem(file, owner, f"quote not found in {doc}: {quote!r}"))
    return problems


def _check_provenance(frameworks: list[tuple[_Checked, Framework]]) -> list[Problem]:
    """Every target and gate names its document or is flagged an assumption (`rule`)."""
    problems: list[Problem] = []
    for c, fw in frameworks:
        key = f"{fw.id}/{fw.version}"
        if key in PRE_PROVENANCE and file_sha256(c.path) == PRE_PROVENANCE[key]:
            continue
        owners = [("gate", g.id, g.rule) for g in fw.gates] + [("target", t.id, t.rule) for t in fw.targets]
        for kind, owner, rule in owners:
            if rule is None:
                problems.append(
                    Problem(
                        c.display,
                        owner,
                        f"{kind} without a rule: name its document (rule: {{document, issuer, date}}) "
                        "or flag it (rule: {assumption: {zh, en}}) with the reason",
                    )
                )
    return problems


def _check_released(checked: list[_Checked], root: Path, directory: bool) -> list[Problem]:
    rpath = released_path(root)
    entries, problems = load_released(root)
    by_key = {c.key: c for c in checked if c.key is not None}
    for c in checked:
        if c.framework is None or c.key is None:
            continue
        if c.key in entries:
            if file_sha256(c.path) != entries[c.key]:
                problems.append(Problem(c.display, None, "released version changed: make a new version"))
            if c.status != "published":
                problems.append(Problem(c.display, None, "released, but its status is draft"))
        elif c.status == "published":
            problems.append(
                Problem(
                    c.display,
                    None,
                    f"status is published, but it is not in {rpath.name}: "
                    f"run `flask frameworks release {c.framework.id} {c.framework.version}`",
                )
            )
    if directory:
        for key in entries:
            if key not in by_key:
                problems.append(Problem(str(rpath), key, "released version deleted: its file is missing"))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m assessments.validate [PATH]`: print the problems; exit status 1 when there are any."""
    args = list(sys.argv[1:] if argv is None else argv)
    problems = validate_path(args[0] if args else None)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("OK: no problems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
