"""`flask score` prints the engine's JSON or exits 2 with one line per problem; `flask rescore`
refreshes every stored assessment's headline numbers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

import scoring
from assessments.loader import load_all, load_framework
from webapp import db, tenancy
from webapp.models import Answer, Assessment

AS_OF = dt.date(2026, 11, 22)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _ideal(fw):
    return {i.id: scoring.ideal_answer(fw, i, as_of=AS_OF) for i in fw.items}


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


PROFILE = {
    "region": "330106", "city": "330100", "registered_in_zhejiang": True, "industry_section": "C",
    "industry_division": "34", "is_manufacturing": True, "size_class": "medium", "above_scale": True,
    "years_operating": 12, "founded_on": "2014-06-01",
}  # fmt: skip


@pytest.mark.parametrize("fw", load_all(), ids=lambda f: f"{f.id}@{f.version}")
def test_score_prints_the_result_for_ideal_answers(fw, runner, tmp_path):
    answers = _write(tmp_path, "a.json", {"answers": _ideal(fw), "evidence": [i.id for i in fw.items]})
    profile = _write(tmp_path, "p.json", PROFILE)
    r = runner.invoke(
        args=[
            "score",
            "--framework",
            fw.id,
            "--version",
            fw.version,
            "--answers",
            answers,
            "--profile",
            profile,
            "--as-of",
            "2026-11-22",
        ]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["framework"] == fw.id and out["version"] == fw.version
    assert out["points"] == out["max_points"] and out["percent"] == 100
    ready = "worth_full_evaluation" if out["screening"] else "ready"  # a screening mode gives no verdict
    for target in out["targets"]:
        # Ready, unless the target is for another region (Shaoxing's award for a Hangzhou firm) or only
        # the firm's profile stands in the way.
        if target["readiness"] == "not_applicable":
            assert target["reason"] == "outside_region" and target["blocking"] == [], target
        elif target["readiness"] != ready:
            assert target["blocking"] and all(b["profile"] for b in target["blocking"]), target
    if fw.id == "performance-excellence":
        by_id = {t["id"]: t["readiness"] for t in out["targets"]}
        assert (
            by_id["award-shaoxing-mayor"] == "not_applicable" and by_id["award-hangzhou-municipal"] == ready
        )
    assert any(t["readiness"] == ready for t in out["targets"])
    assert out["unanswered"] == [] and out["gaps"] == []
    for key in ("sections", "gates", "targets", "gaps", "path_to_ready", "confidence"):
        assert key in out


def test_score_refuses_bad_input_with_one_line_per_problem(runner, tmp_path):
    fw = load_framework("pinzibiao")
    first = fw.items[0]
    bad = _write(tmp_path, "bad.json", {"answers": {"no-such-item": True, first.id: "not-a-valid-value-%%"}})
    r = runner.invoke(args=["score", "--framework", "pinzibiao", "--answers", bad])
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 2
    assert any("no-such-item" in line for line in lines) and any(first.id in line for line in lines)
    assert "{" not in r.output  # no result printed


def test_score_unknown_framework_or_version(runner, tmp_path):
    ok = _write(tmp_path, "ok.json", {"answers": {}})
    for args in (["--framework", "nope"], ["--framework", "pinzibiao", "--version", "9.9.9"]):
        r = runner.invoke(args=["score", *args, "--answers", ok])
        assert r.exit_code == 2 and r.output.strip()


def test_score_unreadable_answers_file(runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    r = runner.invoke(args=["score", "--framework", "pinzibiao", "--answers", str(path)])
    assert r.exit_code == 2 and "not valid JSON" in r.output


def test_rescore_refreshes_stored_results(app, dbconn, create_firm, create_user, runner):
    fw = load_framework("pinzibiao")
    firm = create_firm(owner=create_user(), founded_on=dt.date(2010, 1, 1), above_scale=True)
    with app.app_context(), tenancy.bypass():
        a = Assessment(firm_id=firm.id, framework_id=fw.id, framework_version=fw.version, as_of=AS_OF)
        db.session.add(a)
        db.session.flush()
        for item_id, value in _ideal(fw).items():
            db.session.add(Answer(firm_id=firm.id, assessment_id=a.id, item_id=item_id, value=value))
        empty = Assessment(firm_id=firm.id, framework_id=fw.id, framework_version=fw.version, as_of=AS_OF)
        db.session.add(empty)
        db.session.commit()
        ids = (a.id, empty.id)
    r = runner.invoke(args=["rescore"])
    assert r.exit_code == 0, r.output
    assert "Rescored 2 assessments" in r.output
    with app.app_context(), tenancy.bypass():
        full, nothing = (db.session.get(Assessment, i) for i in ids)
        assert nothing.summary["percent"] == 0 and float(nothing.result_percent) == 0
        assert nothing.summary["answered"] == 0
        # Ideal answers without evidence: evidence-required items keep only the evidence cap.
        assert 0 < full.summary["percent"] <= 100
        assert full.summary["answered"] == full.summary["applicable"]
        assert set(full.summary["targets"]) == {t.id for t in fw.targets}
        assert db.session.scalar(select(Assessment.scored_at).where(Assessment.id == ids[0])) is not None
