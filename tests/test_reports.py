"""Improvement reports: what the PDF says (pdftotext), the fonts it embeds (pdffonts), its length, the
draft watermark, and the data behind the benchmarks. Each full PDF is rendered once per module."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from assessments.loader import load_framework
from assessments.validate import find_quote
from webapp.reports import charts, sample, services
from webapp.reports.services import (
    AnswerRow,
    CommentRow,
    EvidenceRow,
    FirmInfo,
    Preparer,
    ReportInputs,
    RoundInputs,
)

AS_OF = dt.date(2026, 11, 22)
FIRM = FirmInfo(
    id=9001,
    name="杭州精工阀门有限公司",
    credit_code="91330110MA2B3C4D5E",
    region_code="330110",
    industry_division="34",
    size_class="medium",
    above_scale=True,
    founded_on=dt.date(2008, 5, 12),
    employees=420,
)


def round_inputs(
    framework_id: str,
    *,
    mode: str,
    status: str = "submitted",
    seed: int = 7,
    level: float = 0.55,
    rid: int = 1,
) -> RoundInputs:
    fw = load_framework(framework_id)
    s = sample.sample_answers(fw, mode, AS_OF, seed=seed, level=level)
    return RoundInputs(
        id=rid,
        framework_id=fw.id,
        framework_version=fw.version,
        mode=mode,
        status=status,
        round=rid,
        as_of=AS_OF,
        submitted_at=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC) if status == "submitted" else None,
        answers=tuple(
            AnswerRow(item_id, value, None, s.narratives.get(item_id)) for item_id, value in s.values.items()
        ),
        evidence=tuple(EvidenceRow(i, name) for i, names in s.evidence.items() for name in names),
    )


HOSTILE_PROFILE = (
    '本企业<img src="file:///etc/passwd"><link rel="stylesheet" href="http://169.254.169.254/x">'
)


def pe_inputs() -> ReportInputs:
    current = round_inputs("performance-excellence", mode="full", rid=2)
    answers = tuple(  # a text answer with markup in it: it must stay text
        AnswerRow(a.item_id, HOSTILE_PROFILE, None, None) if a.item_id == "pe-org-profile" else a
        for a in current.answers
    )
    return ReportInputs(
        firm=FIRM,
        current=dataclasses.replace(current, answers=answers),
        previous=round_inputs("performance-excellence", mode="full", seed=3, level=0.4, rid=1),
        comments=(
            CommentRow(
                "pe-412-senior-leaders",
                "王丽",
                "请补充经营分析会纪要。",
                dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
            ),
        ),
        preparer=Preparer(name="王丽 Wang Li", org_kind="firm"),
    )


def render(app: Flask, inputs: ReportInputs, lang: str, tmp: Path) -> dict[str, Any]:
    """Assemble, render and write the PDF once; return its text, fonts and pages."""
    with app.test_request_context():
        data = services.assemble(inputs, lang)
        html = services.render_html(data, kind="pdf")
        rendered = services.render_pdf(html, services.pdf_assets(inputs))
    path = tmp / f"report-{lang}-{inputs.current.status}.pdf"
    path.write_bytes(rendered.pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    return {
        "data": data,
        "html": html,
        "rendered": rendered,
        "text": text.decode(),
        "flat": re.sub(r"\s+", "", text.decode()),
        "fonts": fonts.decode(),
        "size": len(rendered.pdf),
    }


@pytest.fixture(scope="module")
def pe_zh(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return render(app, pe_inputs(), "zh", tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def pe_en(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return render(app, pe_inputs(), "en", tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def cqo_draft(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    inputs = ReportInputs(
        firm=FIRM,
        current=round_inputs("chief-quality-officer", mode="default", status="draft"),
        previous=None,
        comments=(),
        preparer=Preparer(),
    )
    return render(app, inputs, "zh", tmp_path_factory.mktemp("pdf"))


# ---- the text -------------------------------------------------------------------------------------


def test_chinese_pdf_text_is_searchable(pe_zh):
    flat = pe_zh["flat"]
    for heading in (
        "改进报告",
        "目录",
        "执行摘要",
        "各部分得分",
        "资格条件",
        "达标路径",
        "改进计划",
        "对照规划的标杆",
        "与上一轮比较",
        "附录：全部回答",
    ):
        assert heading in flat, heading
    assert "杭州精工阀门有限公司" in flat
    assert "卓越绩效自我评价" in flat
    # an improvement action, from the framework data, in Chinese
    action = load_framework("performance-excellence").item("pe-422-strategy-development").action.zh
    assert re.sub(r"\s+", "", action)[:30] in flat
    # a verdict sentence per target, with the award's name
    assert "杭州市人民政府质量奖：尚未达标" in flat
    # the plan behind a benchmark, with its year and its quote
    assert "推进5000家企业导入卓越绩效管理模式" in flat
    assert re.search(r"第\d+页，共\d+页", flat)


def test_english_pdf_text(pe_en):
    text, flat = pe_en["text"], pe_en["flat"]
    for heading in (
        "Improvement report",
        "Contents",
        "Executive summary",
        "Scores by section",
        "Eligibility conditions",
        "Path to ready",
        "Improvement plan",
        "Benchmarks against the plans",
        "Comparison with the previous round",
        "Appendix: every answer",
    ):
        assert re.sub(r"\s+", "", heading) in flat, heading
    assert "杭州精工阀门有限公司" in flat  # the firm's registered name is not translated
    action = load_framework("performance-excellence").item("pe-422-strategy-development").action.en
    assert " ".join(action.split()[:6]) in " ".join(text.split())
    assert "Hangzhou municipal government quality award: not ready yet" in " ".join(text.split())
    assert re.search(r"Page \d+ of \d+", text)


def test_fonts_are_noto_sans_cjk_sc_embedded_and_subset(pe_zh, pe_en):
    for pdf in (pe_zh, pe_en):
        rows = [line.split() for line in pdf["fonts"].splitlines()[2:] if line.strip()]
        assert rows, pdf["fonts"]
        for row in rows:
            name, emb, sub = row[0], row[-5], row[-4]
            assert "Noto-Sans-CJK-SC" in name, pdf["fonts"]  # the SC face, named; never the JP one
            assert (emb, sub) == ("yes", "yes"), pdf["fonts"]


def test_markup_in_an_answer_is_text_and_fetches_nothing(pe_zh):
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in pe_zh["html"]
    assert '<img src="file:///etc/passwd">' not in pe_zh["html"]
    assert re.sub(r"\s+", "", HOSTILE_PROFILE) in pe_zh["flat"]  # printed as the characters it is
    assert pe_zh["rendered"].refused == ()


def test_a_full_performance_excellence_report_is_long_and_small(pe_zh, pe_en):
    for pdf in (pe_zh, pe_en):
        assert pdf["rendered"].pages >= 8
        assert pdf["size"] <= 400 * 1024
        assert pdf["rendered"].refused == ()  # it asks for nothing it may not have
        assert pdf["rendered"].served == ("report-asset:static/report.css",)


def test_charts_are_inline_svg_with_chinese_labels(pe_zh):
    html = pe_zh["html"]
    assert html.count("<svg") == 2
    assert "4.1 领导" in html
    svgs = "".join(re.findall(r"<svg.*?</svg>", html, flags=re.S))
    assert "<script" not in svgs and "http" not in re.sub(r'xmlns(:\w+)?="[^"]+"', "", svgs)
    assert "4.1领导" in pe_zh["flat"]  # the radar's labels are text in the PDF too


def test_comparison_and_gates_and_paths(pe_zh):
    data = pe_zh["data"]
    assert data["comparison"] is not None
    assert data["comparison"]["score_before"] != data["comparison"]["score_after"]
    statuses = {g["id"]: g["status"] for g in data["gates"]}
    assert "pass" in statuses.values()
    # this Hangzhou firm: the Shaoxing award's own conditions are listed as not for its region, last
    assert statuses["registered-in-shaoxing"] == "not_applicable" and "fail" not in statuses.values()
    assert list(statuses.values())[-1] == "not_applicable"
    assert data["paths"] and all(p["steps"] for p in data["paths"])
    assert data["plan"][0]["priority"] == 1
    assert all(s["plan"] for g in data["plan"] for s in g["sources"] if s["kind"] == "plan")


def test_appendix_lists_every_item_with_its_evidence(pe_zh):
    fw = load_framework("performance-excellence")
    entries = [e for s in pe_zh["data"]["appendix"] for e in s["entries"]]
    assert [e["id"] for e in entries] == [i.id for i in fw.items]
    assert any(e["evidence"] for e in entries)
    assert "pe-412-senior-leaders-证据1.pdf" in pe_zh["flat"]
    assert "请补充经营分析会纪要。" in pe_zh["flat"]  # a comment


# ---- the draft watermark --------------------------------------------------------------------------


def test_draft_watermark_on_drafts_only(cqo_draft, pe_zh):
    assert "草稿" in cqo_draft["flat"]
    assert 'class="watermark"' in cqo_draft["html"]
    assert 'class="watermark"' not in pe_zh["html"]
    # the submitted report shows no draft mark anywhere
    assert "草稿：" not in pe_zh["flat"] and "尚未提交" not in pe_zh["flat"]


def test_benchmarks_of_a_yes_no_item(cqo_draft):
    (cqo,) = [b for b in cqo_draft["data"]["benchmarks"] if b["id"] == "cqo-appointment-hangzhou"]
    assert cqo["target"] == "80" and cqo["year"] == 2025 and cqo["status"] in ("meets", "below")
    assert "重点行业中小微企业首席质量官聘任率达80%以上" in cqo_draft["flat"]


# ---- data files -----------------------------------------------------------------------------------


def test_every_benchmark_quote_is_verbatim_and_names_real_items():
    frameworks = {
        f: load_framework(f)
        for f in (
            "chief-quality-officer",
            "labelling-four-100",
            "performance-excellence",
            "pinzibiao",
            "standards-adoption",
        )
    }
    data = yaml.safe_load((services.DATA / "benchmarks.yaml").read_text(encoding="utf-8"))
    assert len({b["id"] for b in data}) == len(data)
    for b in data:
        found, hint = find_quote(b["source"]["quote"], b["source"]["doc"])
        assert found, (b["id"], hint)
        assert services.plan_year(b["source"]["doc"]) is not None
        assert b["kind"] in ("rate", "member", "count")
        kinds = {
            fw.item(i).answer_type.value
            for fw in frameworks.values()
            for i in b["items"]
            if fw.item(i) is not None
        }
        assert kinds, f"{b['id']}: none of its items is in a framework"
        expected = {"rate": {"percent"}, "member": {"yes_no"}, "count": {"date"}}[b["kind"]]
        assert kinds <= expected, (b["id"], kinds)


def test_chart_labels_are_short():
    assert charts.short_label("4.1 领导（110分）") == "4.1 领导"
    assert charts.short_label("4.6 Measurement, analysis and improvement (80 points)") == "4.6 Measurement…"
    assert charts.short_label("基本条件") == "基本条件"


def test_page_label_becomes_css_content():
    assert (
        services._css_content("第 %(page)s 页，共 %(pages)s 页")
        == '"第 " counter(page) " 页，共 " counter(pages) " 页"'
    )
    assert services._css_content('Page %(page)s "x"') == '"Page " counter(page) "  x "'


def test_the_chart_labels_do_not_flood_the_log_while_other_warnings_stay(caplog):
    from webapp.reports.render import render_in_process

    html = (
        '<p style="colour: red">x</p><svg width="40" height="20"><text x="20" y="10"'
        ' style="text-anchor:end">4.1</text></svg>'
    )
    with caplog.at_level("WARNING", logger="weasyprint"):
        render_in_process(html, {})
    logged = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert not [m for m in logged if "text-anchor" in m]
    assert [m for m in logged if "colour" in m]  # a real mistake in the report's CSS is still reported
