"""The framework library: loading, validation, release hashes, JSON / YAML / XLSX export, the CLI.

Tests on the shipped files iterate over whatever `load_all()` finds and fail when one of the five
expected frameworks is missing. Everything else runs on a small fixture framework written to tmp_path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from assessments import export, loader, validate
from assessments.loader import FrameworkError, FrameworkNotFound, Problem
from scoring import Submission, ideal_answer, score, zero_answer
from scoring.model import AnswerType, Framework, Text

EXPECTED_IDS = (
    "chief-quality-officer",
    "labelling-four-100",
    "performance-excellence",
    "pinzibiao",
    "standards-adoption",
)
SHIPPED_ROOT = Path(loader.__file__).resolve().parent / "frameworks"

Q004 = {"doc": "004_ff91c7a900d110f5.txt", "quote": "质量承诺 100%公示"}
Q003 = {"doc": "003_6ee584acb5d75e9f.txt", "quote": "规模以上工业企业主导产品采标率达到65％以上"}
Q002 = {"doc": "002_e4b5a35bce33822a.txt", "quote": "建立健全企业首席质量官、标准总师制度"}
Q000 = {
    "doc": "000_de1cf0e88028c599.txt",
    "quote": "一、现实基础和发展背景（一）现实基础",
}  # across a bookmark


def T(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def item(iid: str, atype: str, points: Any = 10, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": iid,
        "text": T(f"问题 {iid}", f"Question {iid}"),
        "help": T("说明", "Help"),
        "action": T("改进", "Improve"),
        "type": atype,
        "points": points,
        "sources": [dict(Q004)],
    }
    out.update(extra)
    return out


def fixture_data(fid: str = "demo", version: str = "1.0.0", prefix: str = "dm") -> dict[str, Any]:
    """A small framework using every answer type, modes, scales, conditions, gates and targets."""
    return {
        "id": fid,
        "version": version,
        "status": "draft",
        "title": T("演示框架", "Demo framework"),
        "description": T("用于测试", "For tests"),
        "notes": T("备注", "Notes"),
        "scale": 100,
        "near_margin": 7.5,
        "evidence_cap": 0.1,
        "modes": [
            {"id": "quick", "title": T("快速", "Quick")},
            {"id": "full", "title": T("完整", "Full"), "description": T("全部", "All of it")},
        ],
        "scales": [
            {
                "id": "four-step",
                "title": T("四级", "Four steps"),
                "levels": [
                    {"value": "none", "percent": 0, "label": T("无", "None")},
                    {"value": "some", "percent": 33.3, "label": T("部分", "Some")},
                    {"value": "most", "percent": 66.7, "label": T("大部分", "Most"), "descriptor": T("多", "Much")},
                    {"value": "all", "percent": 100, "label": T("全部", "All")},
                ],
            },
            {
                "id": "adli",
                "title": T("ADLI", "ADLI"),
                "levels": [
                    {"value": "0-5", "percent": 0, "label": T("0-5%", "0-5%")},
                    {"value": "50-65", "percent": 50, "label": T("50-65%", "50-65%")},
                    {"value": "90-100", "percent": 100, "label": T("90-100%", "90-100%")},
                ],
            },
        ],
        "sections": [
            {
                "id": "basics",
                "title": T("基本", "Basics"),
                "description": T("基本条件", "Basic conditions"),
                "items": [
                    item(f"{prefix}-incident", "yes_no", 5, fact="major_incident_3y", gate=True, allow_na=False,
                         options=[{"value": "yes", "label": T("是", "Yes"), "points": 0},
                                  {"value": "no", "label": T("否", "No"), "points": 5}]),
                    item(f"{prefix}-iso9001", "yes_no", 2.5, fact="iso9001_certified", effort="low",
                         evidence=T("证书", "Certificate"), evidence_required=True),
                    item(f"{prefix}-standard", "choice", 10, fact="zj_standard_status",
                         options=[{"value": "published", "label": T("已发布", "Published"), "points": 10},
                                  {"value": "drafting", "label": T("制定中", "Drafting"), "points": 4},
                                  {"value": "none", "label": T("无", "None"), "points": 0}],
                         sources=[dict(Q003), {"standard": "DB33/T 944-2014", "verify": True, "note": "n"}]),
                ],
            },
            {
                "id": "practice",
                "title": T("实践", "Practice"),
                "items": [
                    item(f"{prefix}-leadership", "scale", 20, scale={"quick": "four-step", "full": "adli"},
                         narrative=["full"], effort="high"),
                    item(f"{prefix}-planning", "scale", 10, scale="four-step", required=False),
                    item(f"{prefix}-adoption", "percent", 10, fact="main_product_adoption_rate",
                         unit=T("%", "%"),
                         bands=[{"max": 30, "points": 0}, {"min": 30, "max": 65, "points": 5},
                                {"min": 65, "points": 10, "label": T("达标", "On target")}],
                         applies_if=[{"item": f"{prefix}-standard", "in": ["published", "drafting"]},
                                     {"profile": "is_manufacturing", "eq": True}],
                         sources=[dict(Q003)]),
                    item(f"{prefix}-patents", "number", 10, fact="invention_patents", min=0,
                         unit=T("件", "patents"),
                         bands=[{"max": 1, "points": 0}, {"min": 1, "max": 5.5, "points": 6},
                                {"min": 5.5, "points": 10}]),
                    item(f"{prefix}-pe-since", "date", 10, fact="pe_adopted_since",
                         bands=[{"max": 3, "points": 0}, {"min": 3, "points": 10}],
                         applies_if=[{"profile": "years_operating", "gte": 3}]),
                    item(f"{prefix}-cqo", "yes_no", 0.1, fact="cqo_appointed", sources=[dict(Q002), dict(Q000)],
                         applies_if=[{"item": f"{prefix}-iso9001", "eq": True},
                                     {"profile": "size_class", "ne": "micro"}]),
                    item(f"{prefix}-remarks", "text", 0, required=False, allow_na=False),
                ],
            },
        ],
        "gates": [
            {"id": "no-incident", "title": T("无重大事故", "No major incident"),
             "passes_if": {"item": f"{prefix}-incident", "eq": False}, "sources": [dict(Q004)],
             "rule": {"document": "示例〔2022〕1号", "issuer": "示例局", "date": "2022-08-15",
                      "in_force_from": "2022-09-01"}},
            {"id": "in-zhejiang", "title": T("浙江注册", "Registered in Zhejiang"),
             "passes_if": {"profile": "registered_in_zhejiang", "eq": True},
             "rule": {"document": "示例办法", "issuer": "示例局", "date": "2019",
                      "unconfirmed": T("未见原文", "Text not seen")}},
        ],
        "targets": [
            {"id": "certify", "title": T("认证", "Certification"), "description": T("可认证", "Can certify"),
             "threshold": 70, "gates": ["no-incident", "in-zhejiang"], "sources": [{"standard": "rule"}],
             "region": ["33"], "rule": {"assumption": T("QReady 估计", "QReady estimate")}},
            {"id": "apply", "title": T("申请", "Apply"), "threshold": 60.5, "gates": ["in-zhejiang"],
             "region": ["33"], "rule": {"assumption": T("QReady 估计", "QReady estimate")}},
        ],
    }  # fmt: skip


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def dump(data: object) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def write_fw(root: Path, data: dict[str, Any]) -> Path:
    p = root / str(data["id"]) / f"{data['version']}.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(dump(data), encoding="utf-8")
    return p


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A frameworks directory holding the fixture framework; the default root while the test runs."""
    r = tmp_path / "frameworks"
    r.mkdir()
    write_fw(r, fixture_data())
    monkeypatch.setenv("QREADY_FRAMEWORKS_DIR", str(r))
    return r


@pytest.fixture
def fw(root: Path) -> Framework:
    return loader.load_file(root / "demo" / "1.0.0.yaml")


def messages(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


# --------------------------------------------------------------------------------------------------
# The shipped frameworks


def shipped() -> list[loader.FrameworkFile]:
    files = loader.list_frameworks(SHIPPED_ROOT)
    missing = sorted(set(EXPECTED_IDS) - {f.id for f in files})
    assert not missing, f"framework files missing from {SHIPPED_ROOT}: {missing}"
    return files


def shipped_versions(fid: str) -> list[loader.FrameworkFile]:
    paths = sorted((SHIPPED_ROOT / fid).glob("*.yaml"))
    assert paths, f"no framework {fid!r} in {SHIPPED_ROOT}"
    return [loader.read_file(p) for p in paths]


def test_all_expected_frameworks_are_shipped() -> None:
    ids = {f.id for f in shipped()}
    assert set(EXPECTED_IDS) <= ids
    assert [(f.id, f.version) for f in shipped()] == sorted(
        ((f.id, f.version) for f in shipped()), key=lambda k: (k[0], loader.semver_key(k[1]))
    )


def test_shipped_frameworks_validate() -> None:
    shipped()
    problems = validate.validate_path(SHIPPED_ROOT)
    assert problems == [], messages(problems)


def test_every_quote_is_verbatim_in_the_seeds() -> None:
    assert validate.seeds_dir().is_dir(), f"seeds missing: {validate.seeds_dir()}"
    bad: list[str] = []
    count = 0
    for f in shipped():
        fwk = f.framework
        owners = [(i.id, i.sources) for i in fwk.items] + [(g.id, g.sources) for g in fwk.gates]
        owners += [(t.id, t.sources) for t in fwk.targets]
        for owner, sources in owners:
            for s in sources:
                if s.doc is None or s.quote is None:
                    continue
                count += 1
                found, near = validate.find_quote(s.quote, s.doc)
                if not found:
                    hint = f" (the seed has {near!r})" if near else ""
                    bad.append(f"{f.id} {f.version}: {owner}: {s.doc}: {s.quote!r}{hint}")
    assert count > 0, "no quotes cited at all"
    assert not bad, "quotes not found verbatim:\n" + "\n".join(bad)


def texts_of(fwk: Framework) -> Iterator[tuple[str, Text]]:
    yield "title", fwk.title
    yield "description", fwk.description
    if fwk.notes:
        yield "notes", fwk.notes
    for m in fwk.modes:
        yield m.id, m.title
    for sc in fwk.scales:
        yield sc.id, sc.title
        for lv in sc.levels:
            yield f"{sc.id}/{lv.value}", lv.label
    for sec in fwk.sections:
        yield sec.id, sec.title
        for i in sec.items:
            for t in (i.text, i.help, i.action, i.unit, i.evidence):
                if t is not None:
                    yield i.id, t
            for o in i.options:
                yield f"{i.id}/{o.value}", o.label
    for g in fwk.gates:
        yield g.id, g.title
    for tg in fwk.targets:
        yield tg.id, tg.title


def test_zh_and_en_everywhere() -> None:
    bad = [
        f"{f.id}: {where}: {t!r}"
        for f in shipped()
        for where, t in texts_of(f.framework)
        if not t.zh.strip() or not t.en.strip()
    ]
    assert not bad, "\n".join(bad)


def test_published_files_match_released_json() -> None:
    entries, problems = validate.load_released(SHIPPED_ROOT)
    assert problems == []
    for f in shipped():
        key = f"{f.id}/{f.version}"
        if f.published:
            assert key in entries, f"{key} is published but not released"
            assert entries[key] == f.sha256, f"{key}: released version changed"
    for key in entries:
        assert (SHIPPED_ROOT / f"{key}.yaml").is_file(), f"released {key} has no file"


def test_released_shipped_file_changed_is_flagged(tmp_path: Path) -> None:
    entries, _ = validate.load_released(SHIPPED_ROOT)
    assert entries, "released.json lists no released version"
    key = sorted(entries)[0]
    copy_root = tmp_path / "frameworks"
    shutil.copytree(SHIPPED_ROOT, copy_root)
    path = copy_root / f"{key}.yaml"
    assert not [p for p in validate.validate_path(copy_root) if p.file == str(path)]
    path.write_text(path.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    problems = validate.validate_path(copy_root)
    assert any(p.message.startswith("released version changed") and p.file == str(path) for p in problems)


@pytest.mark.parametrize("fid", EXPECTED_IDS)
def test_shipped_xlsx_round_trip(fid: str, tmp_path: Path) -> None:
    for f in shipped_versions(fid):
        path = tmp_path / f"{f.id}-{f.version}.xlsx"
        export.export_xlsx(f.framework, path, status=f.status)
        data = export.import_xlsx(path)
        back = export.from_dict(data)
        assert back == f.framework
        assert export.to_dict(back) == export.to_dict(f.framework)
        assert data["status"] == f.status
        assert loader.parse_text(export.to_yaml(data))[0] == f.framework


@pytest.mark.parametrize("fid", EXPECTED_IDS)
def test_shipped_dict_and_yaml_round_trip(fid: str) -> None:
    for f in shipped_versions(fid):
        d = export.to_dict(f.framework)
        assert json.loads(json.dumps(d, ensure_ascii=False)) == d
        assert export.from_dict(d) == f.framework
        fwk, status, problems = loader.parse_text(export.to_yaml(f.framework, status=f.status))
        assert problems == []
        assert fwk == f.framework
        assert status == f.status
        for sec in d["sections"]:
            for i in sec["items"]:
                assert "ideal_answer" in i and "zero_answer" in i


def check_reference_answers(fwk: Framework) -> None:
    """In every mode, the ideal answers (with evidence) earn 100 % and pass every gate an item decides;
    the zero answers earn 0 %. Catches data the validator cannot: an unreachable maximum, a gate no
    answer passes."""
    as_of = export.DEFAULT_AS_OF
    everything = frozenset(i.id for i in fwk.items)
    for mode in fwk.modes:
        items = [i for i in fwk.items if i.answer_type is not AnswerType.SCALE or i.scale_for(mode.id)]
        ideal = {i.id: ideal_answer(fwk, i, mode=mode.id, as_of=as_of) for i in items}
        zero = {i.id: zero_answer(fwk, i, mode=mode.id, as_of=as_of) for i in items}
        best = score(fwk, Submission(answers=ideal, evidence=everything, mode=mode.id, as_of=as_of))
        assert best.percent == 100, f"{fwk.id} {mode.id}: ideal answers earn {best.percent} %"
        closed = [(g.id, g.status) for g in best.gates if g.item is not None and g.status != "pass"]
        assert not closed, f"{fwk.id} {mode.id}: gates not passed by the ideal answers: {closed}"
        worst = score(fwk, Submission(answers=zero, evidence=everything, mode=mode.id, as_of=as_of))
        assert worst.percent == 0, f"{fwk.id} {mode.id}: zero answers earn {worst.percent} %"


@pytest.mark.parametrize("fid", EXPECTED_IDS)
def test_shipped_reference_answers(fid: str) -> None:
    for f in shipped_versions(fid):
        check_reference_answers(f.framework)


def test_fixture_reference_answers(fw: Framework) -> None:
    check_reference_answers(fw)


# --------------------------------------------------------------------------------------------------
# Loading


def test_load_fixture(fw: Framework) -> None:
    assert fw.id == "demo" and fw.version == "1.0.0"
    assert [m.id for m in fw.modes] == ["quick", "full"]
    assert fw.near_margin == Decimal("7.5") and fw.evidence_cap == Decimal("0.1")
    lead = fw.item("dm-leadership")
    assert lead is not None and lead.scales == (("quick", "four-step"), ("full", "adli"))
    plan = fw.item("dm-planning")
    assert plan is not None and plan.scales == (("quick", "four-step"), ("full", "four-step"))
    assert plan.required is False
    cqo = fw.item("dm-cqo")
    assert cqo is not None and cqo.max_points == Decimal("0.1") and str(cqo.max_points) == "0.1"
    scale = fw.scale_by_id("four-step")
    assert scale is not None and scale.levels[1].percent == Decimal("33.3")
    incident = fw.item("dm-incident")
    assert incident is not None and incident.options[0].value == "yes"  # YAML 1.2: yes is a string
    assert incident.gate and not incident.allow_na
    adoption = fw.item("dm-adoption")
    assert adoption is not None and adoption.applies_if[0].value == ("published", "drafting")
    pe = fw.item("dm-pe-since")
    assert pe is not None and pe.applies_if[0].value == Decimal(3)
    assert fw.gates[0].passes_if.value is False
    assert fw.targets[1].threshold == Decimal("60.5")
    assert len(fw.items) == 10


def test_yaml_reading_rules() -> None:
    data = loader.read_yaml("a: yes\nb: no\nc: on\nd: true\ne: 2021-01-01\nf: 0.1\ng: 1_000\nh: 1.50\n")
    assert data == {"a": "yes", "b": "no", "c": "on", "d": True, "e": "2021-01-01", "f": Decimal("0.1"),
                    "g": 1000, "h": Decimal("1.50")}  # fmt: skip
    assert str(loader.canonical_decimal(Decimal("1.50"))) == "1.5"
    assert str(loader.canonical_decimal(Decimal("1E+3"))) == "1000"


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_numbers_survive_json_floats(d: Decimal) -> None:
    # At most 15 significant digits: the float's shortest repr is the decimal itself, so the JSON export
    # (ints and floats) and the spreadsheet (numeric cells) keep every number exactly.
    c = loader.canonical_decimal(d)
    as_json = int(c) if c == c.to_integral_value() else float(c)
    back = loader.read_yaml(f"x: {json.dumps(as_json)}")
    assert isinstance(back, dict)
    assert loader.canonical_decimal(Decimal(back["x"])) == c
    assert loader.canonical_decimal(Decimal(repr(json.loads(json.dumps(as_json))))) == c


def test_load_all_orders_by_id_then_semver(root: Path) -> None:
    for version in ("1.10.0", "1.2.0", "1.2.0-rc.1"):
        write_fw(root, fixture_data(version=version))
    write_fw(root, fixture_data("alpha", prefix="al"))
    got = [(f.id, f.version) for f in loader.list_frameworks()]
    assert got == [
        ("alpha", "1.0.0"),
        ("demo", "1.0.0"),
        ("demo", "1.2.0-rc.1"),
        ("demo", "1.2.0"),
        ("demo", "1.10.0"),
    ]
    assert [f.id for f in loader.load_all()] == ["alpha", "demo", "demo", "demo", "demo"]
    assert loader.versions("demo") == ["1.0.0", "1.2.0-rc.1", "1.2.0", "1.10.0"]
    assert loader.load_framework("demo").version == "1.10.0"  # no published version: the latest
    data = fixture_data(version="1.2.0")
    data["status"] = "published"
    write_fw(root, data)
    assert loader.load_framework("demo").version == "1.2.0"  # the latest published one
    assert loader.load_framework("demo", "1.10.0").version == "1.10.0"
    info = loader.framework_file("demo", "1.2.0")
    assert info.status == "published" and info.path == (root / "demo" / "1.2.0.yaml").resolve()
    assert info.sha256 == loader.file_sha256(info.path)
    with pytest.raises(FrameworkNotFound):
        loader.load_framework("nope")
    with pytest.raises(FrameworkNotFound):
        loader.load_framework("demo", "9.9.9")
    with pytest.raises(FrameworkNotFound):
        loader.load_file(root / "missing.yaml")


def test_cache_and_reload(root: Path) -> None:
    path = root / "demo" / "1.0.0.yaml"
    a = loader.load_file(path)
    assert loader.load_file(path) is a
    data = fixture_data()
    data["title"] = T("新标题", "New title")
    path.write_text(dump(data), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    b = loader.load_file(path)
    assert b.title.en == "New title"


def test_load_refuses_invalid(tmp_path: Path) -> None:
    data = fixture_data()
    data["targets"][0]["gates"].append("nope")
    path = write_fw(tmp_path, data)
    with pytest.raises(FrameworkError) as exc:
        loader.load_file(path)
    assert any("unknown gate 'nope'" in p.message for p in exc.value.problems)


# --------------------------------------------------------------------------------------------------
# Validation


def test_fixture_validates(root: Path) -> None:
    assert validate.validate_path(root) == []
    assert validate.validate_path(root / "demo" / "1.0.0.yaml") == []


def test_a_target_or_gate_without_its_rule_is_refused(root: Path) -> None:
    """Every line and condition names its document or is flagged an assumption (issue 16)."""
    data = fixture_data()
    del data["gates"][0]["rule"]
    del data["targets"][1]["rule"]
    write_fw(root, data)
    problems = {(p.item, p.message.split(":")[0]) for p in validate.validate_path(root)}
    assert problems == {("no-incident", "gate without a rule"), ("apply", "target without a rule")}
    # an assumption must say why; a document its date
    data = fixture_data()
    data["gates"][0]["rule"] = {"document": "某办法"}
    data["targets"][0]["rule"] = {
        "assumption": {"zh": "估计", "en": "estimate"},
        "document": "x",
        "date": "2020",
    }
    write_fw(root, data)
    messages = " ".join(p.message for p in validate.validate_path(root))
    assert "a document needs its 'date'" in messages and "an assumption names no document" in messages
    # the released 1.0.0 files predate provenance and keep their bytes; every later version has rules
    assert all(g.rule is None for g in loader.load_framework("pinzibiao", "1.0.0", SHIPPED_ROOT).gates)
    assert all(g.rule is not None for g in loader.load_framework("pinzibiao", "1.1.0", SHIPPED_ROOT).gates)


def test_a_targets_region_scope_is_checked_against_its_location_gate(root: Path) -> None:
    """The scope is data (`region:` beside the rule, issue 16): malformed codes and a scope that
    disagrees with the target's location gate are refused; the released 1.0.0 / 1.1.0 files, which
    predate it, keep the scope derived from their gates."""

    def refused(**regions: Any) -> dict[str, str]:
        data = fixture_data()
        for target in data["targets"]:
            if target["id"] in regions:
                if regions[target["id"]] is None:
                    del target["region"]
                else:
                    target["region"] = regions[target["id"]]
        write_fw(root, data)
        return {p.item: p.message for p in validate.validate_path(root) if p.item}

    assert refused() == {}
    # disagreeing with the gate in-zhejiang (registered_in_zhejiang eq true: "33")
    got = refused(certify=["3306"])
    assert set(got) == {"certify"} and "location gates limit it to ['33']" in got["certify"], got
    got = refused(apply=None)  # no scope declared, but the gate limits it
    assert "declares none (everywhere), but its location gates limit it to ['33']" in got["apply"], got
    assert "must agree" in refused(apply=[])["apply"]
    assert "limit it to ['33']" in refused(apply=["33", "31"])["apply"]
    # malformed: not a GB/T 2260 prefix, a full code where its prefix belongs, nested, repeated
    for bad, says in (
        (["3"], "not a GB/T 2260 code prefix"),
        (["330"], "not a GB/T 2260 code prefix"),
        (["3301001"], "not a GB/T 2260 code prefix"),
        (["hz"], "not a GB/T 2260 code prefix"),
        (["99"], "not a GB/T 2260 code prefix"),  # no such province
        (["330000"], "ends in 00: write the prefix '33'"),
        (["3300"], "ends in 00: write the prefix '33'"),
        (["33", "3301"], "'3301' lies inside '33'"),
        (["33", "33"], "duplicate region '33'"),
    ):
        got = refused(certify=bad)
        assert says in got.get("certify", ""), (bad, got)
    data = fixture_data()
    data["targets"][0]["region"] = [33]
    write_fw(root, data)
    assert "region[0]: expected a string" in messages(validate.validate_path(root))
    # a target without a location gate may have a scope of its own, or none
    data = fixture_data()
    data["targets"][0]["gates"] = ["no-incident"]
    data["targets"][0]["region"] = ["3306"]
    write_fw(root, data)
    assert not [p for p in validate.validate_path(root) if p.item]
    assert loader.load_file(root / "demo" / "1.0.0.yaml").targets[0].region == ("3306",)
    # only the versions released before the scope derive it from the gates
    data = fixture_data()
    for target in data["targets"]:
        del target["region"]
    fw, _status, found = loader.parse_text(dump(data))
    assert fw is not None and not found and fw.targets[1].region == ()  # the validator refuses it (above)
    assert ("pinzibiao", "1.1.0") in loader.SCOPE_FROM_GATES
    assert ("pinzibiao", "1.1.1") not in loader.SCOPE_FROM_GATES


Mutation = Callable[[dict[str, Any]], None]


def _items(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for s in d["sections"] for i in s["items"]}


def _set(iid: str, **kv: Any) -> Mutation:
    def f(d: dict[str, Any]) -> None:
        _items(d)[iid].update(kv)

    return f


def _drop(iid: str, key: str) -> Mutation:
    def f(d: dict[str, Any]) -> None:
        del _items(d)[iid][key]

    return f


def _do(fn: Callable[[dict[str, Any]], object]) -> Mutation:
    def f(d: dict[str, Any]) -> None:
        fn(d)

    return f


BROKEN: list[tuple[str, Mutation, str | None, str]] = [
    ("unknown item key", _set("dm-iso9001", pionts=3), "dm-iso9001", "unknown key 'pionts' (did you mean 'points'?)"),
    ("unknown top key", _do(lambda d: d.update(scael=100)), None, "unknown key 'scael'"),
    ("missing zh", _set("dm-iso9001", help={"en": "Help"}), "dm-iso9001", "help: missing required key 'zh'"),
    ("empty en", _set("dm-iso9001", action=T("改进", " ")), "dm-iso9001", "action.en: empty text"),
    ("missing required key", _drop("dm-iso9001", "action"), "dm-iso9001", "missing required key 'action'"),
    ("wrong type", _set("dm-iso9001", points="ten"), "dm-iso9001", "points: expected a number"),
    ("bad answer type", _set("dm-iso9001", type="boolean"), "dm-iso9001", "'boolean' is not one of"),
    ("key of another type", _set("dm-iso9001", bands=[]), "dm-iso9001", "bands: not used by a yes_no item"),
    ("bad id", _set("dm-iso9001", id="DM_ISO"), "DM_ISO", "is not a valid id"),
    ("bad status", _do(lambda d: d.update(status="final")), None, "status: 'final' is not one of"),
    ("bad version", _do(lambda d: d.update(version="1.0")), None, "not a semantic version"),
    ("too precise", _set("dm-iso9001", points=Decimal("1.0000000000000001")), "dm-iso9001", "significant digits"),
    ("no sources", _set("dm-iso9001", sources=[]), "dm-iso9001", "sources: at least one source"),
    ("missing sources", _drop("dm-iso9001", "sources"), "dm-iso9001", "missing required key 'sources'"),
    ("source doc without quote", _set("dm-iso9001", sources=[{"doc": Q004["doc"]}]), "dm-iso9001", "needs 'doc' and 'quote'"),
    ("source doc and standard", _set("dm-iso9001", sources=[dict(Q004, standard="x")]), "dm-iso9001", "not both"),
    ("bad quote", _set("dm-iso9001", sources=[{"doc": Q004["doc"], "quote": "不存在的引文"}]), "dm-iso9001", "quote not found in 004_ff91c7a900d110f5.txt"),
    ("quote spacing", _set("dm-iso9001", sources=[{"doc": Q004["doc"], "quote": "质量承诺100%公示"}]), "dm-iso9001", "the seed has '质量承诺 100%公示'"),
    ("unknown seed", _set("dm-iso9001", sources=[{"doc": "999.txt", "quote": "x"}]), "dm-iso9001", "unknown seed document '999.txt'"),
    ("overlapping bands", _set("dm-adoption", bands=[{"max": 40, "points": 0}, {"min": 30, "points": 10}]), "dm-adoption", "bands[1] overlaps bands[0]"),
    ("unsorted bands", _set("dm-adoption", bands=[{"min": 50, "points": 10}, {"max": 50, "points": 0}]), "dm-adoption", "overlaps"),
    ("gap in bands", _set("dm-adoption", bands=[{"max": 30, "points": 0}, {"min": 40, "points": 10}]), "dm-adoption", "values from 30 to below 40 match no band"),
    ("band max 100 on percent", _set("dm-adoption", bands=[{"max": 50, "points": 0}, {"min": 50, "max": 100, "points": 10}]), "dm-adoption", "values from 100 up to 100 match no band"),
    ("band min above max", _set("dm-adoption", bands=[{"max": 50, "points": 0}, {"min": 50, "max": 50, "points": 10}, {"min": 50, "points": 10}]), "dm-adoption", "min (50) must be below max (50)"),
    ("band points too high", _set("dm-adoption", bands=[{"max": 50, "points": 0}, {"min": 50, "points": 11}]), "dm-adoption", "points 11 outside 0..10"),
    ("no band earns max", _set("dm-adoption", bands=[{"max": 50, "points": 0}, {"min": 50, "points": 9}]), "dm-adoption", "no band earns the item's full 10 points"),
    ("bands missing", _drop("dm-adoption", "bands"), "dm-adoption", "a percent item needs 'bands'"),
    ("percent bound", _set("dm-adoption", max=120), "dm-adoption", "a percent bound must be within 0..100"),
    ("number bounds", _set("dm-patents", min=5, max=5), "dm-patents", "min (5) must be below max (5)"),
    ("number bound beyond answers", _set("dm-patents", max=10**16), "dm-patents", "max: 10000000000000000 is beyond what any answer may be"),
    ("duplicate option", _set("dm-standard", options=[{"value": "none", "label": T("a", "a"), "points": 10}, {"value": "none", "label": T("b", "b"), "points": 0}]), "dm-standard", "duplicate option value 'none'"),
    ("option too many points", _set("dm-standard", points=5), "dm-standard", "option 'published': points 10 outside 0..5"),
    ("no option earns max", _set("dm-standard", points=12), "dm-standard", "no option earns the item's full 12 points"),
    ("one option", _set("dm-standard", options=[{"value": "a", "label": T("a", "a"), "points": 10}]), "dm-standard", "at least two options"),
    ("zero answer earns points", _set("dm-standard", options=[{"value": "published", "label": T("a", "a"), "points": 10}, {"value": "drafting", "label": T("b", "b"), "points": 4}, {"value": "none", "label": T("c", "c"), "points": 1}]), "dm-standard", "the zero answer \"none\" in mode 'full' earns 1 points, not 0"),
    ("zero date earns points", _set("dm-pe-since", bands=[{"max": 3, "points": 1}, {"min": 3, "points": 10}]), "dm-pe-since", "the zero answer \"2025-01-01\" in mode 'quick' earns 1 points, not 0"),
    ("ideal answer short of max", _set("dm-incident", options=[{"value": "yes", "label": T("是", "Yes"), "points": 5}, {"value": "no", "label": T("否", "No"), "points": 3}]), "dm-incident", "the ideal answer false in mode 'quick' earns 3 points, not 5"),
    ("yes_no options", _set("dm-iso9001", options=[{"value": "ja", "label": T("a", "a"), "points": 2.5}, {"value": "no", "label": T("b", "b"), "points": 0}]), "dm-iso9001", "exactly the options 'yes' and 'no'"),
    ("bad option value", _set("dm-standard", options=[{"value": "Pub lished", "label": T("a", "a"), "points": 10}, {"value": "x", "label": T("b", "b"), "points": 0}]), "dm-standard", "is not a valid value"),
    ("scale missing mode", _set("dm-leadership", scale={"quick": "four-step"}), "dm-leadership", "no scale for mode 'full'"),
    ("unknown scale", _set("dm-leadership", scale="five-step"), "dm-leadership", "unknown scale 'five-step'"),
    ("unknown scale mode", _set("dm-leadership", scale={"quick": "four-step", "full": "adli", "slow": "adli"}), "dm-leadership", "unknown mode 'slow'"),
    ("scale never full", _do(lambda d: [d["scales"][i]["levels"].pop() for i in (0, 1)]), "dm-leadership", "scale adli, four-step: no level reaches 100 percent in any mode"),
    ("level over 100", _do(lambda d: d["scales"][1]["levels"][2].update(percent=101)), "adli", "percent must be within 0..100"),
    ("levels unsorted", _do(lambda d: d["scales"][1]["levels"].reverse()), "adli", "ascending order of percent"),
    ("duplicate level", _do(lambda d: d["scales"][1]["levels"][1].update(value="0-5")), "adli", "duplicate level value '0-5'"),
    ("duplicate item id", _set("dm-iso9001", id="dm-incident", fact="major_incident_3y"), "dm-incident", "duplicate item id 'dm-incident'"),
    ("duplicate section id", _do(lambda d: d["sections"][1].update(id="basics")), "basics", "duplicate section id"),
    ("condition on a later item", _set("dm-iso9001", applies_if=[{"item": "dm-cqo", "eq": True}]), "dm-iso9001", "item 'dm-cqo' must come before"),
    ("condition on itself", _set("dm-iso9001", applies_if=[{"item": "dm-iso9001", "eq": True}]), "dm-iso9001", "must come before"),
    ("condition on unknown item", _set("dm-iso9001", applies_if=[{"item": "dm-nope", "eq": True}]), "dm-iso9001", "unknown item 'dm-nope'"),
    ("condition on unknown fact", _set("dm-iso9001", applies_if=[{"profile": "employees", "gte": 10}]), "dm-iso9001", "unknown profile fact 'employees'"),
    ("condition bad option", _set("dm-adoption", applies_if=[{"item": "dm-standard", "eq": "publish"}]), "dm-adoption", "'publish' is not one of its options"),
    ("condition yes_no needs bool", _set("dm-cqo", applies_if=[{"item": "dm-iso9001", "eq": "yes"}]), "dm-cqo", "compare with true or false"),
    ("condition profile type", _set("dm-cqo", applies_if=[{"profile": "years_operating", "gte": "3"}]), "dm-cqo", "compare with a whole number"),
    ("condition profile value", _set("dm-cqo", applies_if=[{"profile": "size_class", "eq": "tiny"}]), "dm-cqo", "'tiny' is not one of"),
    ("condition gte on bool", _set("dm-cqo", applies_if=[{"profile": "above_scale", "gte": 1}]), "dm-cqo", "'gte' needs a number fact"),
    ("condition two ops", _set("dm-cqo", applies_if=[{"profile": "above_scale", "eq": True, "ne": False}]), "dm-cqo", "exactly one operator"),
    ("dangling gate", _do(lambda d: d["targets"][0]["gates"].append("no-debt")), "certify", "unknown gate 'no-debt'"),
    ("gate on unknown item", _do(lambda d: d["gates"][0]["passes_if"].update(item="dm-nope")), "no-incident", "unknown item 'dm-nope'"),
    ("gate item allows n/a", _set("dm-incident", allow_na=True), "dm-incident", "must set allow_na: false"),
    ("gate item not flagged", _set("dm-incident", gate=False), "dm-incident", "must set gate: true"),
    ("gate flag without gate", _set("dm-iso9001", gate=True, allow_na=False), "dm-iso9001", "no gate's passes_if refers to this item"),
    ("unused gate", _do(lambda d: d["targets"][0]["gates"].remove("no-incident")), "no-incident", "not used by any target"),
    ("threshold above scale", _do(lambda d: d["targets"][0].update(threshold=101)), "certify", "threshold 101 outside 0..100"),
    ("points sum for scale 1000", _do(lambda d: d.update(scale=1000, near_margin=50)), None, "the items' points sum to 77.6, but the framework's scale is 1000"),
    ("section points declared", _do(lambda d: d["sections"][0].update(points=20)), "basics", "declared 20, but its items' points sum to 17.5"),
    ("text with points", _set("dm-remarks", points=5), "dm-remarks", "a text item earns no points"),
    ("evidence required without evidence", _set("dm-cqo", evidence_required=True), "dm-cqo", "needs 'evidence'"),
    ("unknown narrative mode", _set("dm-leadership", narrative=["long"]), "dm-leadership", "narrative: unknown mode 'long'"),
    ("unknown fact", _set("dm-iso9001", fact="iso9002_certified"), "dm-iso9001", "unknown fact 'iso9002_certified'"),
    ("fact type", _set("dm-cqo", fact="invention_patents"), "dm-cqo", "is a number fact, the item is yes_no"),
    ("fact options", _do(lambda d: _items(d)["dm-standard"]["options"].append({"value": "planned", "label": T("计划", "Planned"), "points": 0})), "dm-standard", "has the options ['published', 'drafting', 'none']"),
    ("evidence_cap range", _do(lambda d: d.update(evidence_cap=2)), None, "evidence_cap: must be within 0..1"),
    ("no sections", _do(lambda d: d.update(sections=[])), None, "sections: at least one section"),
    ("empty modes", _do(lambda d: d.update(modes=[])), None, "modes: at least one mode"),
]  # fmt: skip


CROSS_FILE = {"bad quote", "quote spacing", "unknown seed", "unknown fact", "fact type", "fact options"}


@pytest.mark.parametrize(("case", "mutate", "where", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_validator_catches(
    case: str, mutate: Mutation, where: str | None, expected: str, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = fixture_data()
    mutate(data)
    path = write_fw(root, data)
    problems = validate.validate_path(root)
    hits = [p for p in problems if expected in p.message and p.item == where and p.file == str(path)]
    assert hits, f"{case}: expected {where}: {expected!r}; got:\n{messages(problems)}"
    if case in CROSS_FILE:  # needs other files (seeds, facts.yaml): loading alone does not check it
        assert loader.load_file(path).id == "demo"
    else:
        with pytest.raises(FrameworkError):
            loader.load_file(path)


def test_condition_value_types_are_checked_for_every_answer_type(root: Path) -> None:
    data = fixture_data()
    _items(data)["dm-remarks"]["applies_if"] = [
        {"item": "dm-leadership", "eq": "excellent"},
        {"item": "dm-adoption", "gte": "high"},
        {"item": "dm-pe-since", "lte": "2020-13-01"},
        {"item": "dm-patents", "in": [1, "two"]},
        {"item": "dm-standard", "gte": 1},
    ]
    write_fw(root, data)
    got = [p.message for p in validate.validate_path(root) if p.item == "dm-remarks"]
    assert len(got) == 5, got
    assert "'excellent' is not a level of its scales" in got[0]
    assert "compare with a number" in got[1]
    assert 'compare with a date "YYYY-MM-DD"' in got[2]
    assert "compare with a number, got 'two'" in got[3]
    assert "'gte' needs a percent, number or date item" in got[4]


def test_yaml_level_errors(root: Path) -> None:
    path = root / "demo" / "1.0.0.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("scale: 100\n", "scale: 100\nscale: 100\n", 1), encoding="utf-8")
    assert any("found duplicate key 'scale'" in p.message for p in validate.validate_path(root))
    path.write_text(text + "\n  - [broken\n", encoding="utf-8")
    assert any(p.message.startswith("YAML error") for p in validate.validate_path(root))
    path.write_text("- just a list\n", encoding="utf-8")
    assert any("expected a mapping" in p.message for p in validate.validate_path(root))
    path.write_bytes("id: 演示".encode("gbk"))
    assert any("not UTF-8" in p.message for p in validate.validate_path(root))


def test_item_ids_unique_across_frameworks(root: Path) -> None:
    other = fixture_data("other")  # same item ids (prefix dm) in another framework
    write_fw(root, other)
    problems = validate.validate_path(root)
    assert any(p.item == "dm-incident" and "also used by" in p.message for p in problems)
    assert all(p.file.endswith("other/1.0.0.yaml") for p in problems)
    shutil.rmtree(root / "other")
    write_fw(root, fixture_data(version="1.1.0"))  # another version of the same framework may reuse them
    assert validate.validate_path(root) == []


def test_single_file_checked_against_default_root(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "other.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(dump(fixture_data("other")), encoding="utf-8")
    problems = validate.validate_path(elsewhere)
    assert problems and all("also used by framework demo 1.0.0" in p.message for p in problems)


def test_layout_and_duplicates(root: Path) -> None:
    data = fixture_data(version="1.1.0")
    (root / "demo" / "1.5.0.yaml").write_text(dump(data), encoding="utf-8")
    (root / "coverage.yaml").write_text("not: a framework\n", encoding="utf-8")  # top level: not a framework
    (root / "demo" / "old").mkdir()
    (root / "demo" / "old" / "stray.yaml").write_text(
        dump(fixture_data("stray", prefix="st")), encoding="utf-8"
    )
    (root / "demo" / "copy").mkdir()
    (root / "demo" / "copy" / "1.0.0.yaml").write_text(dump(fixture_data()), encoding="utf-8")
    got = [str(p) for p in validate.validate_path(root)]
    assert any("1.5.0.yaml: file says demo 1.1.0: it must be at demo/1.1.0.yaml" in m for m in got), got
    assert any("old/stray.yaml: a framework file must be at <id>/<version>.yaml" in m for m in got), got
    assert not any("coverage.yaml" in m for m in got), got
    assert any("copy/1.0.0.yaml: demo 1.0.0 is also defined in" in m for m in got), got


def test_missing_path_and_empty_dir(tmp_path: Path) -> None:
    assert validate.validate_path(tmp_path / "nope")[0].message == "no such file or directory"
    assert "no framework files" in validate.validate_path(tmp_path)[0].message


def test_seeds_missing_reports_one_problem(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QREADY_SEEDS_DIR", str(tmp_path / "no-seeds"))
    problems = validate.validate_path(root)
    assert len(problems) == 1 and "seeds directory missing" in problems[0].message
    assert loader.load_file(root / "demo" / "1.0.0.yaml").id == "demo"  # loading does not need seeds


def test_seed_flattening_ignores_line_breaks_and_bookmarks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.txt").write_text(
        "[bookmark: _Toc1]第一\r\n行[bookmark: _Toc2]第二行 １００％\n", encoding="utf-8"
    )
    monkeypatch.setenv("QREADY_SEEDS_DIR", str(tmp_path))
    assert validate.find_quote("第一行第二行", "s.txt") == (True, None)
    assert validate.find_quote("第二行100%", "s.txt") == (False, "第二行 １００％")
    assert validate.find_quote("第三行", "s.txt") == (False, None)
    assert validate.find_quote("x", "../s.txt") == (False, None)


def test_facts_file_is_valid() -> None:
    facts, problems = validate.load_facts()
    assert problems == []
    assert facts["zj_standard_status"].options == ("published", "drafting", "none")
    assert facts["iso9001_certified"].type is AnswerType.YES_NO


def test_broken_facts_file(tmp_path: Path) -> None:
    p = tmp_path / "facts.yaml"
    p.write_text(
        "facts:\n  a_b: {type: choice, title: {zh: 甲, en: A}, options: [x]}\n  c: {type: nope}\n", "utf-8"
    )
    facts, problems = validate.load_facts(p)
    assert facts == {}
    assert [x.item for x in problems] == ["a_b", "c"]


def test_fact_bounds_must_agree(root: Path) -> None:
    other = fixture_data("other", prefix="ot")
    _items(other)["ot-patents"]["max"] = 1000
    write_fw(root, other)
    problems = validate.validate_path(root)
    assert [p.item for p in problems] == ["ot-patents"], messages(problems)
    assert "min/max [0, 1000] differ from item 'dm-patents' [0, ]" in problems[0].message


# --------------------------------------------------------------------------------------------------
# Released versions


def test_release_and_immutability(root: Path) -> None:
    path = root / "demo" / "1.0.0.yaml"
    with pytest.raises(validate.ReleaseError, match="draft"):
        validate.release("demo", "1.0.0", root)
    data = fixture_data()
    data["status"] = "published"
    path.write_text(dump(data), encoding="utf-8")
    problems = validate.validate_path(root)
    assert [p.message for p in problems] == [
        "status is published, but it is not in released.json: run `flask frameworks release demo 1.0.0`"
    ]
    digest = validate.release("demo", "1.0.0", root)
    assert json.loads((root / "released.json").read_text()) == {"demo/1.0.0": digest}
    assert validate.validate_path(root) == []
    assert validate.release("demo", "1.0.0", root) == digest  # idempotent
    path.write_text(path.read_text(encoding="utf-8").replace("Demo framework", "Demo"), encoding="utf-8")
    problems = validate.validate_path(root)
    assert [(p.file, p.message) for p in problems] == [
        (str(path), "released version changed: make a new version")
    ]
    assert validate.validate_path(path) == problems
    with pytest.raises(validate.ReleaseError, match="other content"):
        validate.release("demo", "1.0.0", root)
    with pytest.raises(validate.ReleaseError, match="no framework file"):
        validate.release("demo", "2.0.0", root)


def test_released_file_deleted_or_draft(root: Path) -> None:
    (root / "released.json").write_text(
        json.dumps({"demo/1.0.0": loader.file_sha256(root / "demo" / "1.0.0.yaml"), "gone/1.0.0": "0" * 64})
    )
    got = {(p.item, p.message) for p in validate.validate_path(root)}
    assert got == {
        (None, "released, but its status is draft"),
        ("gone/1.0.0", "released version deleted: its file is missing"),
    }
    (root / "released.json").write_text('{"demo/1.0.0": "abc"}')
    assert [p.message for p in validate.validate_path(root)] == ["value must be a SHA-256 hex digest"]
    (root / "released.json").write_text("[")
    assert validate.validate_path(root)[0].message.startswith("not valid JSON")


def test_release_refuses_invalid(root: Path) -> None:
    data = fixture_data()
    data["status"] = "published"
    data["targets"][0]["threshold"] = 500
    write_fw(root, data)
    with pytest.raises(validate.ReleaseError, match="not valid"):
        validate.release("demo", "1.0.0", root)


# --------------------------------------------------------------------------------------------------
# Export: dict, YAML, XLSX


def test_to_dict(fw: Framework) -> None:
    d = export.to_dict(fw)
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert d["as_of"] == "2025-01-01" and d["near_margin"] == 7.5 and d["scale"] == 100
    items = {i["id"]: i for s in d["sections"] for i in s["items"]}
    assert items["dm-incident"]["ideal_answer"] is False and items["dm-incident"]["zero_answer"] is True
    assert items["dm-iso9001"]["ideal_answer"] is True and items["dm-iso9001"]["options"] == []
    assert (
        items["dm-standard"]["ideal_answer"] == "published" and items["dm-standard"]["zero_answer"] == "none"
    )
    assert items["dm-leadership"]["ideal_answer"] == "all"
    assert items["dm-leadership"]["ideal_answer_by_mode"] == {"quick": "all", "full": "90-100"}
    assert items["dm-leadership"]["scale"] == {"quick": "four-step", "full": "adli"}
    assert items["dm-planning"]["scale"] == "four-step"
    assert items["dm-pe-since"]["ideal_answer"] == "2022-01-01"
    assert items["dm-cqo"]["points"] == 0.1
    assert d["sections"][0]["points"] == 17.5
    assert (
        export.to_dict(fw, as_of=dt.date(2030, 6, 1))["sections"][1]["items"][4]["ideal_answer"]
        == "2027-06-01"
    )
    assert export.from_dict(d) == fw
    assert export.to_dict(export.from_dict(d)) == d
    assert export.to_dict(fw, status="draft")["status"] == "draft"


def test_from_dict_rejects_invalid(fw: Framework) -> None:
    d = export.to_dict(fw)
    d["sections"][0]["items"][0]["colour"] = "red"
    with pytest.raises(FrameworkError, match="unknown key 'colour'"):
        export.from_dict(d)


def test_yaml_round_trip(fw: Framework) -> None:
    text = export.to_yaml(fw, status="draft")
    back, status, problems = loader.parse_text(text)
    assert problems == [] and back == fw and status == "draft"
    assert "{zh: 演示框架, en: Demo framework}" in text  # readable: texts on one line, Chinese as is
    assert "allow_na: true" not in text  # defaults left out
    assert export.to_yaml(export.framework_data(fw)) == export.to_yaml(fw)
    assert export.to_yaml(export.framework_data(fw), status="published").startswith(
        "id: demo\nversion: 1.0.0\nstatus: published\n"
    )


def test_xlsx_round_trip_and_determinism(fw: Framework, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    export.export_xlsx(fw, a, status="draft")
    export.export_xlsx(fw, b, status="draft")
    assert a.read_bytes() == b.read_bytes()
    data = export.import_xlsx(a)
    assert export.from_dict(data) == fw
    assert export.to_dict(export.from_dict(data)) == export.to_dict(fw)
    assert data == export.framework_data(fw, status="draft")
    wb = openpyxl.load_workbook(a)
    assert wb.sheetnames == [
        "framework", "modes", "scales", "levels", "sections", "items", "options", "bands", "gates", "targets",
        "sources", "rules", "help",
    ]  # fmt: skip
    wb.close()


def test_xlsx_edits_are_read(fw: Framework, tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    export.export_xlsx(fw, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["items"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "dm-cqo")
    row[header.index("text_en")].value = "Is a CQO appointed?"
    row[header.index("points")].value = 0.2
    row[
        header.index("applies_if")
    ].value = 'item dm-standard eq published\nprofile size_class in ["small", "micro"]'
    wb["options"].append(["dm-cqo", "yes", 0.2, "是", "Yes"])
    wb["options"].append(["dm-cqo", "no", 0, "否", "No"])
    wb.save(path)
    data = export.import_xlsx(path)
    assert "status" not in data
    cqo = export.from_dict(data).item("dm-cqo")
    assert cqo is not None and cqo.text.en == "Is a CQO appointed?" and cqo.max_points == Decimal("0.2")
    assert [(c.item, c.profile, c.op.value, c.value) for c in cqo.applies_if] == [
        ("dm-standard", None, "eq", "published"),
        (None, "size_class", "in", ("small", "micro")),
    ]
    assert [o.value for o in cqo.options] == ["yes", "no"]


def test_xlsx_import_errors(fw: Framework, tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    export.export_xlsx(fw, path)
    wb = openpyxl.load_workbook(path)
    wb["items"].cell(row=1, column=5).value = "txt_zh"
    wb["options"].append(["dm-nope", "x", 1, "x", "x"])
    wb["bands"].append(["dm-standard", 0, 1, 1, None, None])
    wb["sources"].append(["section", "basics", None, None, "x", None, None])
    wb.save(path)
    with pytest.raises(FrameworkError) as exc:
        export.import_xlsx(path)
    got = [p.message for p in exc.value.problems]
    assert any("sheet 'items': columns must be" in m and "unknown ['txt_zh']" in m for m in got), got
    assert any("unknown item 'dm-nope'" in m for m in got), got
    assert any("'for' must be item, gate or target" in m for m in got), got
    (tmp_path / "junk.xlsx").write_text("not a workbook")
    with pytest.raises(FrameworkError, match="cannot read the workbook"):
        export.import_xlsx(tmp_path / "junk.xlsx")


def test_xlsx_import_validates(fw: Framework, tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    export.export_xlsx(fw, path)
    wb = openpyxl.load_workbook(path)
    wb["targets"].cell(row=2, column=6).value = 1000
    wb.save(path)
    with pytest.raises(FrameworkError) as exc:
        export.import_xlsx(path)
    assert [(p.item, p.message) for p in exc.value.problems] == [
        ("certify", "threshold 1000 outside 0..100 (the scale)")
    ]
    wb = openpyxl.load_workbook(path)
    wb["targets"].cell(row=2, column=6).value = 70
    wb["bands"].append(["dm-standard", 0, 1, 1, None, None])
    wb.save(path)
    with pytest.raises(FrameworkError) as exc:
        export.import_xlsx(path)
    assert [str(p) for p in exc.value.problems] == [
        f"{path}: dm-standard: bands!10: a choice item has no bands"
    ]


# --------------------------------------------------------------------------------------------------
# The CLI


@pytest.fixture
def cli_app() -> Flask:
    from webapp.commands.frameworks import frameworks

    app = Flask(__name__)
    app.cli.add_command(frameworks)
    return app


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["frameworks", *args], catch_exceptions=False)


def test_cli_list(cli_app: Flask, root: Path) -> None:
    write_fw(root, fixture_data(version="1.1.0"))
    result = run(cli_app, "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "version", "status", "items", "title"]
    assert lines[2].split()[:4] == ["demo", "1.0.0", "draft", "10"] and "演示框架" in lines[2]
    assert lines[3].split()[:2] == ["demo", "1.1.0"]
    assert "Demo framework" in run(cli_app, "list", "--lang", "en").output


def test_cli_list_shows_the_shipped_frameworks(cli_app: Flask) -> None:
    result = run(cli_app, "list")
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.splitlines()[2:]}
    assert set(EXPECTED_IDS) <= listed, result.output


def test_cli_validate(cli_app: Flask, root: Path) -> None:
    result = run(cli_app, "validate")
    assert result.exit_code == 0 and result.output.startswith("OK: 1 framework file")
    data = fixture_data()
    _items(data)["dm-iso9001"]["pionts"] = 1
    path = write_fw(root, data)
    result = run(cli_app, "validate", str(root))
    assert result.exit_code == 1
    assert f"{path}: dm-iso9001: sections[0].items[1]: unknown key 'pionts'" in result.output
    assert run(cli_app, "validate", str(root / "nope")).exit_code == 1


def test_cli_export(cli_app: Flask, root: Path) -> None:
    result = run(cli_app, "export", "demo")
    assert result.exit_code == 0
    d = json.loads(result.output)
    assert d["id"] == "demo" and "演示框架" in result.output  # not \u-escaped
    items = [i for s in d["sections"] for i in s["items"]]
    assert all("ideal_answer" in i and "zero_answer" in i for i in items)
    assert (
        json.loads(run(cli_app, "export", "demo", "--version", "1.0.0", "--as-of", "2030-01-01").output)[
            "as_of"
        ]
        == "2030-01-01"
    )
    result = run(cli_app, "export", "nope")
    assert result.exit_code != 0 and "unknown framework 'nope'" in result.output


def test_cli_xlsx(cli_app: Flask, root: Path, tmp_path: Path, fw: Framework) -> None:
    xlsx = tmp_path / "demo.xlsx"
    result = run(cli_app, "export-xlsx", "demo", str(xlsx))
    assert result.exit_code == 0 and xlsx.is_file()
    out = tmp_path / "out.yaml"
    result = run(cli_app, "import-xlsx", str(xlsx), "--out", str(out))
    assert result.exit_code == 0 and str(out) in result.output
    assert loader.load_file(out) == fw
    result = run(cli_app, "import-xlsx", str(xlsx))  # default: <root>/<id>/<version>.yaml, which exists
    assert result.exit_code != 0 and "exists" in result.output
    result = run(cli_app, "import-xlsx", str(xlsx), "--out", "-")
    assert result.exit_code == 0 and loader.parse_text(result.output)[0] == fw


def test_cli_release(cli_app: Flask, root: Path) -> None:
    result = run(cli_app, "release", "demo", "1.0.0")
    assert result.exit_code != 0 and "draft" in result.output
    data = fixture_data()
    data["status"] = "published"
    write_fw(root, data)
    result = run(cli_app, "release", "demo", "1.0.0")
    assert result.exit_code == 0 and "demo/1.0.0" in result.output
    assert "demo/1.0.0" in json.loads((root / "released.json").read_text())
