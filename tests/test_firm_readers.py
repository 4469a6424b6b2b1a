"""Every reader of firm-owned rows takes the firm: with firm A in context, a call with firm B's ids —
B's firm, or A's firm with B's assessment — reads nothing.

The readers are found, not listed: every public function of the packages below with a `firm_id`
(or `firm_ids`) parameter, or a parameter naming a firm-owned model's id (`assessment_id`,
`action_id`, `evidence_id`, ... derived from the tenant-scoped models). A new reader that takes an
object's id without the firm fails here, and so does one this test does not know how to call."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from sqlalchemy import select
from test_questionnaire import fill, pdf_bytes, start, upload

from assessments.loader import load_framework
from assessments.validate import load_facts
from scoring.model import Framework
from webapp import access, db, tenancy
from webapp.models import Action, Consultancy, ConsultancyGrant, Evidence, User

PACKAGES = (
    "webapp.questionnaire",
    "webapp.results",
    "webapp.plan",
    "webapp.reports",
    "webapp.consultants",
    "webapp.api",
)
NOT_READERS = {"controllers", "blueprint", "forms", "demo", "openapi"}  # views carry access rules


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _object_ids() -> set[str]:
    """`<model>_id` and `<model>_ids` of every tenant-scoped model, the firm's own included."""
    names = {
        _snake(m.class_.__name__)
        for m in db.Base.registry.mappers
        if issubclass(m.class_, tenancy.TenantScoped)
    }
    return {f"{n}_id" for n in names} | {f"{n}_ids" for n in names}


def readers() -> list[Any]:
    ids = _object_ids()
    found = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name in NOT_READERS:
                continue
            module = importlib.import_module(f"{package}.{info.name}")
            for name, fn in vars(module).items():
                if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                    continue
                if access.rule_of(fn) is not None:
                    continue  # a view: its access rule admits the firm (test_access_matrix.py)
                if ids & set(inspect.signature(fn).parameters):
                    found.append(fn)
    return found


CALLERS = {"firm_id", "dropped"}  # fields of a result that only repeat what the caller asked


def nothing(x: Any) -> bool:
    """Nothing of a firm's: None, False, 0, "", the frameworks' own definitions, or a collection,
    tuple or dataclass of such (a mapping's keys, a `firm_id` field and the number of asked-for firms
    `dropped` are what the caller gave)."""
    if isinstance(x, Framework) or not x:
        return True
    if isinstance(x, dict):
        return all(nothing(v) for v in x.values())
    if is_dataclass(x):
        return all(nothing(getattr(x, f.name)) for f in fields(x) if f.name not in CALLERS)
    return isinstance(x, (tuple, list, set, frozenset)) and all(nothing(v) for v in x)


@pytest.fixture
def two_firms(app, create_user, create_firm, login):
    """Firm A's owner signed in with nothing of A's; firm B with an assessment that has answers (a
    shared fact among them), history, evidence, a comment, a section assignment and an action."""
    a_owner = create_user(name="甲 Owner")
    firm_a = create_firm("甲企业", owner=a_owner)
    b_owner = create_user(name="乙 Owner")
    firm_b = create_firm("乙企业", owner=b_owner, region="330203")
    b = login(app.test_client(), b_owner)
    aid = start(b, firm_b.id)
    fill(b, firm_b.id, aid, "pinzibiao")
    assert upload(b, firm_b.id, aid, "pzb-certified", "证书.pdf", pdf_bytes("乙的证书")).status_code == 303
    base = f"/firms/{firm_b.id}/assessments/{aid}"
    assert b.post(f"{base}/comments", data={"item": "pzb-certified", "body": "请核对"}).status_code == 303
    assign = {"section": "basic", "user_id": str(b_owner.id)}
    assert b.post(f"{base}/assignments", data=assign).status_code == 303
    with app.app_context(), tenancy.bypass():
        db.session.add(
            Action(firm_id=firm_b.id, title="乙的行动", created_by_id=b_owner.id, assessment_id=aid)
        )
        consultancy = Consultancy(name="乙的咨询机构", code="YIZX01")  # B granted it access
        db.session.add(consultancy)
        db.session.flush()
        db.session.add(ConsultancyGrant(firm_id=firm_b.id, consultancy_id=consultancy.id))
        db.session.commit()
        consultancy_id = consultancy.id
        action_id = db.session.scalar(select(Action.id).where(Action.firm_id == firm_b.id))
        evidence_id = db.session.scalar(select(Evidence.id).where(Evidence.firm_id == firm_b.id))
    return firm_a.id, a_owner.id, firm_b.id, aid, action_id, evidence_id, consultancy_id


def test_every_reader_with_another_firms_ids_reads_nothing(app, two_firms):
    firm_a, a_owner_id, firm_b, aid, action_id, evidence_id, consultancy_id = two_firms
    fw = load_framework("pinzibiao")
    with app.test_request_context():
        tenancy.set_context(tenancy.TenantContext(roles={firm_a: "owner"}))
        user = db.session.get(User, a_owner_id)

        def args(firm: int) -> dict[str, Any]:
            return {
                "firm_id": firm,
                "firm_ids": [firm],
                "assessment_id": aid,
                "assessment_ids": [aid],
                "action_id": action_id,
                "evidence_id": evidence_id,
                "consultancy_id": consultancy_id,
                "items": [i.id for i in fw.items],
                "item_ids": [i.id for i in fw.items],
                "facts": list(load_facts()[0]),
                "framework_id": "pinzibiao",
                "framework_ids": ["pinzibiao"],
                "mode": None,
                "user": user,
                "by": user,
                "title": "x",
                "actions": [],
                "lang": "en",
                "can_edit": False,
            }

        checked: set[str] = set()
        for fn in readers():
            params = inspect.signature(fn).parameters
            name = f"{fn.__module__}.{fn.__name__}"
            assert {"firm_id", "firm_ids"} & set(params), f"{name} reads by id without the firm"
            ids_of_b = _object_ids() & set(params) - {"firm_id", "firm_ids"}
            for firm in (firm_b, firm_a) if ids_of_b else (firm_b,):
                given = args(firm)
                call = {}
                for p in params.values():
                    if p.name in given and (p.default is inspect.Parameter.empty or p.name in _object_ids()):
                        call[p.name] = given[p.name]
                    elif p.default is inspect.Parameter.empty:
                        raise AssertionError(f"{name}: the test does not know how to fill `{p.name}`")
                try:
                    with db.session.begin_nested():
                        got = fn(**call)
                except tenancy.TenancyError:
                    got = None  # refused: nothing read, nothing written
                assert nothing(got), (
                    f"{name}({', '.join(f'{k}={v!r}' for k, v in call.items())}) read {got!r:.300}"
                )
                checked.add(name.removeprefix("webapp."))
        assert {
            "questionnaire.answers.answer_states",
            "questionnaire.answers.evidence_items",
            "questionnaire.collaboration.comments_of",
            "questionnaire.collaboration.assignments_of",
            "questionnaire.history.history_of",
            "questionnaire.evidence.evidence_of",
            "questionnaire.facts.fact_sources",
            "plan.services.action_of",
            "reports.services.load_inputs",
        } <= checked
