"""Data rights (PIPL 个人信息保护法): a person's own data, and everything of a firm, as files to take away.

Functions with explicit arguments that return values; they read, never write (the caller records the
export in the audit log and answers with the file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy import delete, or_, select

from assessments.loader import FrameworkNotFound, load_framework
from scoring.model import Framework
from webapp import db, tenancy
from webapp.models import (
    Answer,
    AnswerHistory,
    ApiToken,
    Assessment,
    AuditEvent,
    Comment,
    Consultancy,
    ConsultancyGrant,
    Evidence,
    FactAnswer,
    Firm,
    Invitation,
    Membership,
    Regulator,
    SectionAssignment,
    User,
)
from webapp.questionnaire.storage import EvidenceStore
from webapp.stats import counts

PERSONAL_FORMAT = "qready-personal-data/1"
FIRM_FORMAT = "qready-firm-data/1"


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def _framework(framework_id: str, version: str) -> Framework | None:
    try:
        return load_framework(framework_id, version)
    except FrameworkNotFound:
        return None


def _assessment_ref(a: Assessment, firm_names: dict[int, str]) -> dict[str, Any]:
    return {
        "firm": firm_names.get(a.firm_id, ""),
        "assessment_id": a.id,
        "framework": a.framework_id,
        "framework_version": a.framework_version,
        "round": a.round,
    }


# ---- a person's own data --------------------------------------------------------------------------


def personal_data(user: User, *, now: dt.datetime) -> dict[str, Any]:
    """What QReady keeps about `user`: the account, memberships, what they wrote and where (the
    authorship of answers and files, their comments), their API tokens (never the tokens themselves)
    and the audit log's events by or about them.

    Their authorship and comments are read in every firm they wrote in, members still or not — the
    rows are theirs (`tenancy.bypass`, each query filtered by this user). The firms' own answers are
    the firms' data: only which item the person changed, and when, is listed."""
    with tenancy.bypass():
        memberships = list(db.session.scalars(select(Membership).where(Membership.user_id == user.id)))

        def written(model: Any, by: Any) -> list[tuple[Any, Assessment]]:
            q = select(model, Assessment).join(Assessment, Assessment.id == model.assessment_id)
            return list(db.session.execute(q.where(by == user.id).order_by(model.id)).tuples())

        history = written(AnswerHistory, AnswerHistory.changed_by_id)
        uploads = written(Evidence, Evidence.uploaded_by_id)
        comments = written(Comment, Comment.author_id)
        firm_ids = {m.firm_id for m in memberships if m.firm_id} | {
            a.firm_id for rows in (history, uploads, comments) for _row, a in rows
        }
        firm_names = _names(Firm, firm_ids)
    consultancy_names = _names(Consultancy, {m.consultancy_id for m in memberships if m.consultancy_id})
    regulator_names = _names(Regulator, {m.regulator_id for m in memberships if m.regulator_id})
    names = {"firm": firm_names, "consultancy": consultancy_names, "regulator": regulator_names}
    tokens = list(
        db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    AuditEvent.actor_id == user.id,
                    (AuditEvent.target_type == "user") & (AuditEvent.target_id == user.id),
                ),
                # the log names ids without foreign keys: never an event from before this account
                # (SQLite may give a deleted row's id to a new one)
                AuditEvent.created_at >= user.created_at,
            )
            .order_by(AuditEvent.id)
        )
    )
    return {
        "format": PERSONAL_FORMAT,
        "exported_at": _iso(now),
        "account": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.locale,
            "created_at": _iso(user.created_at),
            "email_confirmed_at": _iso(user.email_verified_at),
            "password_changed_at": _iso(user.password_changed_at),
            "platform_admin": user.is_platform_admin,
            "active": user.is_active_account,
        },
        "memberships": [
            {
                "organisation_kind": m.kind,
                "organisation_id": m.org_id,
                "organisation": names[m.kind].get(m.org_id, ""),
                "role": m.role,
                "since": _iso(m.created_at),
            }
            for m in memberships
        ],
        "answers_changed": [
            {
                **_assessment_ref(a, firm_names),
                "item": h.item_id,
                "version": h.version,
                "changed_at": _iso(h.changed_at),
                **({"through_shared_fact": h.via_fact} if h.via_fact else {}),
                **({"evidence": h.evidence_action, "file": h.evidence_name} if h.evidence_action else {}),
            }
            for h, a in history
        ],
        "files_uploaded": [
            {
                **_assessment_ref(a, firm_names),
                "item": e.item_id,
                "file": e.filename,
                "size": e.size,
                "uploaded_at": _iso(e.uploaded_at),
            }
            for e, a in uploads
        ],
        "comments": [
            {
                **_assessment_ref(a, firm_names),
                "item": c.item_id,
                "text": c.body,
                "written_at": _iso(c.created_at),
            }
            for c, a in comments
        ],
        "api_tokens": [
            {
                "name": t.name,
                "starts_with": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in tokens
        ],
        "activity": [_event_json(e) for e in events],
    }


def _names(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(wanted))).tuples().all())


def _event_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "at": _iso(e.created_at),
        "action": e.action,
        "by": e.actor_email,
        "via": e.via,
        "address": e.ip,
        "firm_id": e.firm_id,
        **({"organisation": f"{e.org_kind}:{e.org_id}"} if e.org_kind else {}),
        "target": {"type": e.target_type, "id": e.target_id, "name": e.target_label}
        if e.target_type
        else None,
        "detail": e.detail,
    }


# ---- everything of a firm -------------------------------------------------------------------------


def _safe(part: str) -> str:
    """A file name part that stays one part inside the zip."""
    part = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", part).strip(" ._")
    return part[:120] or "file"


def write_firm_export(firm: Firm, store: EvidenceStore, out: IO[bytes], *, now: dt.datetime) -> list[str]:
    """Everything of `firm` as one zip written to `out`: `firm.json` (the profile, members, invitations,
    consultancies, every assessment with its answers, history, comments, assignments and files, the
    shared facts, and the firm's activity log), `answers.xlsx` (every answer, one row each) and
    `evidence/` (the files themselves). The caller admitted the firm's owner; every query names the
    firm. Returns the files it could not read (their rows stay in firm.json, marked missing)."""
    fid = firm.id
    users = _user_emails(fid)
    members = list(
        db.session.scalars(select(Membership).where(Membership.firm_id == fid).order_by(Membership.id))
    )
    invitations = list(
        db.session.scalars(select(Invitation).where(Invitation.firm_id == fid).order_by(Invitation.id))
    )
    grants = list(
        db.session.scalars(
            select(ConsultancyGrant).where(ConsultancyGrant.firm_id == fid).order_by(ConsultancyGrant.id)
        )
    )
    assessments = list(
        db.session.scalars(select(Assessment).where(Assessment.firm_id == fid).order_by(Assessment.id))
    )
    ids = [a.id for a in assessments]

    def rows(model: Any) -> dict[int, list[Any]]:
        out_rows: dict[int, list[Any]] = {}
        if ids:
            q = select(model).where(model.firm_id == fid, model.assessment_id.in_(ids)).order_by(model.id)
            for r in db.session.scalars(q):
                out_rows.setdefault(r.assessment_id, []).append(r)
        return out_rows

    answers, history, comments = rows(Answer), rows(AnswerHistory), rows(Comment)
    evidence, assignments = rows(Evidence), rows(SectionAssignment)
    facts = list(
        db.session.scalars(select(FactAnswer).where(FactAnswer.firm_id == fid).order_by(FactAnswer.fact))
    )
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.firm_id == fid, AuditEvent.created_at >= firm.created_at)
            .order_by(AuditEvent.id)
        )
    )

    missing: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        files: dict[int, str] = {}
        used: set[str] = set()
        for a in assessments:
            for e in evidence.get(a.id, []):
                path = str(
                    PurePosixPath(
                        "evidence",
                        f"{a.id}-{_safe(a.framework_id)}-{a.round}",
                        _safe(e.item_id),
                        _safe(e.filename),
                    )
                )
                if path in used:
                    path = path.replace("/" + _safe(e.filename), f"/{e.id}-{_safe(e.filename)}")
                used.add(path)
                try:
                    data = store.get(e.storage_key)
                except (FileNotFoundError, ValueError):  # gone, or a key no store here made (demo rows)
                    missing.append(path)
                    continue
                # evidence is mostly PDF and images, compressed already
                zf.writestr(path, data, compress_type=zipfile.ZIP_STORED)
                files[e.id] = path
        data = {
            "format": FIRM_FORMAT,
            "exported_at": _iso(now),
            "firm": {
                "id": firm.id,
                "name": firm.name,
                "credit_code": firm.credit_code,
                "region_code": firm.region_code,
                "industry_division": firm.industry_division,
                "employees": firm.employees,
                "revenue_10k_yuan": firm.revenue_10k,
                "total_assets_10k_yuan": firm.total_assets_10k,
                "size_class": firm.size_class,
                "above_scale": firm.above_scale,
                "founded_on": _iso(firm.founded_on),
                "created_at": _iso(firm.created_at),
            },
            "members": [
                {"name": m.user.name, "email": m.user.email, "role": m.role, "since": _iso(m.created_at)}
                for m in members
            ],
            "invitations": [
                {
                    "email": i.email,
                    "role": i.role,
                    "invited_by": users.get(i.invited_by_id),
                    "sent_at": _iso(i.created_at),
                    "accepted_at": _iso(i.accepted_at),
                    "withdrawn_at": _iso(i.revoked_at),
                }
                for i in invitations
            ],
            "consultancies": [
                {
                    "name": g.consultancy.name,
                    "granted_by": users.get(g.granted_by_id),
                    "granted_at": _iso(g.granted_at),
                    "revoked_at": _iso(g.revoked_at),
                    "revoked_by": users.get(g.revoked_by_id),
                }
                for g in grants
            ],
            "shared_facts": [
                {
                    "fact": f.fact,
                    "value": f.value,
                    "version": f.version,
                    "updated_by": users.get(f.updated_by_id),
                    "updated_at": _iso(f.updated_at),
                }
                for f in facts
            ],
            "assessments": [
                {
                    "id": a.id,
                    "framework": a.framework_id,
                    "framework_version": a.framework_version,
                    "mode": a.mode,
                    "round": a.round,
                    "status": a.status,
                    "previous_round_id": a.previous_id,
                    "created_by": users.get(a.created_by_id),
                    "created_at": _iso(a.created_at),
                    "submitted_by": users.get(a.submitted_by_id),
                    "submitted_at": _iso(a.submitted_at),
                    "as_of": _iso(a.as_of),
                    "summary": a.summary,
                    "answers": [
                        {
                            "item": x.item_id,
                            "value": x.value,
                            "not_applicable_because": x.na_reason,
                            "narrative": x.narrative,
                            "shared_fact": x.fact,
                            "version": x.version,
                            "updated_by": users.get(x.updated_by_id),
                            "updated_at": _iso(x.updated_at),
                        }
                        for x in answers.get(a.id, [])
                    ],
                    "history": [
                        {
                            "item": h.item_id,
                            "version": h.version,
                            "old_value": h.old_value,
                            "new_value": h.new_value,
                            "old_not_applicable_because": h.old_na_reason,
                            "new_not_applicable_because": h.new_na_reason,
                            "old_narrative": h.old_narrative,
                            "new_narrative": h.new_narrative,
                            "through_shared_fact": h.via_fact,
                            "evidence": h.evidence_action,
                            "file": h.evidence_name,
                            "changed_by": users.get(h.changed_by_id),
                            "changed_at": _iso(h.changed_at),
                        }
                        for h in history.get(a.id, [])
                    ],
                    "evidence": [
                        {
                            "item": e.item_id,
                            "file": e.filename,
                            "content_type": e.content_type,
                            "size": e.size,
                            "sha256": e.sha256,
                            "uploaded_by": users.get(e.uploaded_by_id),
                            "uploaded_at": _iso(e.uploaded_at),
                            "in_this_zip": files.get(e.id),
                        }
                        for e in evidence.get(a.id, [])
                    ],
                    "comments": [
                        {
                            "item": c.item_id,
                            "text": c.body,
                            "by": users.get(c.author_id),
                            "at": _iso(c.created_at),
                        }
                        for c in comments.get(a.id, [])
                    ],
                    "section_assignments": [
                        {
                            "section": s.section_id,
                            "assignee": users.get(s.user_id),
                            "assigned_by": users.get(s.assigned_by_id),
                            "assigned_at": _iso(s.assigned_at),
                        }
                        for s in assignments.get(a.id, [])
                    ],
                }
                for a in assessments
            ],
            "activity": [_event_json(e) for e in events],
        }
        zf.writestr("firm.json", to_json(data))
        zf.writestr("answers.xlsx", _answers_xlsx(assessments, answers, users))
        if missing:
            zf.writestr("missing-files.txt", "\n".join(missing) + "\n")
    return missing


def _user_emails(firm_id: int) -> dict[int | None, str]:
    """How the export names the people in the firm's rows: a member by their address (the members
    page shows it); anyone else who wrote in it (a consultant, someone who left) by their name only,
    as the firm's pages show them; a deleted account as "a former member"."""
    named: set[int] = set()
    for model, columns in (
        (Answer, ("updated_by_id",)),
        (AnswerHistory, ("changed_by_id",)),
        (Evidence, ("uploaded_by_id",)),
        (Comment, ("author_id",)),
        (SectionAssignment, ("user_id", "assigned_by_id")),
        (Assessment, ("created_by_id", "submitted_by_id")),
        (FactAnswer, ("updated_by_id",)),
        (Membership, ("user_id",)),
        (Invitation, ("invited_by_id",)),
        (ConsultancyGrant, ("granted_by_id", "revoked_by_id")),
    ):
        for column in columns:
            col = getattr(model, column)
            named.update(
                x for x in db.session.scalars(select(col).where(model.firm_id == firm_id).distinct()) if x
            )
    if not named:
        return {}
    members = set(db.session.scalars(select(Membership.user_id).where(Membership.firm_id == firm_id)))
    rows = db.session.execute(select(User.id, User.email, User.name).where(User.id.in_(sorted(named))))
    return {i: email if i in members else (name or "a former member") for i, email, name in rows}


def _append_as_data(ws: Any, values: list[Any]) -> None:
    """A row of values, each kept as what it is: text a firm typed that starts with "=" stays text
    (openpyxl would store it as a formula for the spreadsheet to run), and characters a workbook
    cannot hold are left out."""
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


ANSWER_COLUMNS = (
    "assessment_id",
    "framework",
    "framework_version",
    "round",
    "status",
    "item",
    "question (zh)",
    "question (en)",
    "value",
    "not_applicable_because",
    "narrative",
    "version",
    "updated_by",
    "updated_at",
)


def _answers_xlsx(
    assessments: list[Assessment], answers: dict[int, list[Answer]], users: dict[int | None, str]
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "answers"
    ws.append(list(ANSWER_COLUMNS))
    for a in assessments:
        fw = _framework(a.framework_id, a.framework_version)
        for x in answers.get(a.id, []):
            item = fw.item(x.item_id) if fw is not None else None
            value = (
                x.value
                if isinstance(x.value, (str, int, float, bool)) or x.value is None
                else json.dumps(x.value, ensure_ascii=False)
            )
            _append_as_data(
                ws,
                [
                    a.id,
                    a.framework_id,
                    a.framework_version,
                    a.round,
                    a.status,
                    x.item_id,
                    item.text.get("zh") if item is not None else "",
                    item.text.get("en") if item is not None else "",
                    value,
                    x.na_reason,
                    x.narrative,
                    x.version,
                    users.get(x.updated_by_id, ""),
                    x.updated_at.replace(tzinfo=None) if x.updated_at else None,  # UTC; Excel keeps no zone
                ],
            )
    for n, width in enumerate((12, 18, 10, 8, 10, 24, 48, 48, 24, 30, 48, 8, 28, 20), start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- deleting an account --------------------------------------------------------------------------


def organisations_only_owned_by(user: User) -> list[str]:
    """The firms and consultancies whose only owner is `user`: an account cannot go while one would be
    left without an owner (someone else becomes owner first, or the firm is deleted: a firm on its way
    out needs no owner)."""
    owned = list(
        db.session.scalars(
            select(Membership).where(Membership.user_id == user.id, Membership.role == "owner")
        )
    )
    names: list[str] = []
    with tenancy.bypass():
        for m in owned:
            column = Membership.firm_id if m.firm_id is not None else Membership.consultancy_id
            others = db.session.scalar(
                select(Membership.id).where(
                    column == m.org_id, Membership.role == "owner", Membership.user_id != user.id
                )
            )
            if others is None:
                org = db.session.get(Firm if m.firm_id is not None else Consultancy, m.org_id)
                if isinstance(org, Firm) and org.deletion_due_at is not None:
                    continue
                names.append(org.name)  # type: ignore[union-attr]
    return names


DELETED_DOMAIN = "deleted.invalid"  # RFC 2606: never a real address


def delete_account(user: User, *, now: dt.datetime) -> None:
    """Delete the account: its memberships, section assignments and API tokens go; its name, email
    address and password are erased, and it can never sign in again. The row itself stays, empty,
    so that what the person wrote in a firm (answers, history, files, comments) stays the firm's,
    shown as by "a former member" (an author without a name), and so that every page naming them
    changes its ETag (the account's `updated_at` moves). The audit log keeps its events (the caller
    records this one first)."""
    db.session.execute(delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    with tenancy.bypass():  # the person's assignments, in whichever firms
        db.session.execute(delete(SectionAssignment).where(SectionAssignment.user_id == user.id))
    user.email = f"deleted-{user.id}@{DELETED_DOMAIN}"
    user.name = ""
    user.password_hash = "!"  # noqa: S105 - not a hash: no password matches it
    user.email_verified_at = None
    user.is_active_account = False
    user.is_platform_admin = False
    user.password_changed_at = now  # every session of the account ends
    db.session.flush()


# ---- deleting a firm ------------------------------------------------------------------------------

GRACE = dt.timedelta(days=30)


def schedule_firm_deletion(firm: Firm, *, now: dt.datetime) -> dt.datetime:
    """An owner deletes the firm: it is kept `GRACE` (30 days), restorable, then purged."""
    firm.deletion_due_at = now + GRACE
    db.session.flush()
    return firm.deletion_due_at


def restore_firm(firm: Firm) -> None:
    firm.deletion_due_at = None
    db.session.flush()


def firms_due(now: dt.datetime) -> list[Firm]:
    """The firms whose grace period is over (across firms: for the purge command only)."""
    with tenancy.bypass():
        q = (
            select(Firm)
            .where(Firm.deletion_due_at.is_not(None), Firm.deletion_due_at <= now)
            .order_by(Firm.id)
        )
        return list(db.session.scalars(q))


def purge_firm(firm: Firm, store: EvidenceStore) -> int:
    """Delete the firm and everything of it — memberships, invitations, grants, assessments with their
    answers, history, comments and files (the database's foreign keys cascade) — and, once that
    commits, its evidence objects in the store. Returns the number of files. The audit log keeps the
    firm's events (they name its id, with no foreign key)."""
    with tenancy.bypass():
        keys = list(db.session.scalars(select(Evidence.storage_key).where(Evidence.firm_id == firm.id)))
        with counts.firm_changing(firm.id):  # the statistics stop counting it
            db.session.execute(delete(Firm).where(Firm.id == firm.id))
    db.session.expunge(firm)
    for key in keys:
        db.after_commit(lambda key=key: _delete_object(store, key))  # type: ignore[misc]
    return len(keys)


def _delete_object(store: EvidenceStore, key: str) -> None:
    # gone already, or a key no store here made (demo rows)
    with contextlib.suppress(FileNotFoundError, ValueError):
        store.delete(key)


def firm_counts(firm_id: int) -> dict[str, int]:
    """What deleting the firm takes with it: members, assessments, evidence files."""
    from sqlalchemy import func

    def count(model: Any) -> int:
        return int(
            db.session.scalar(select(func.count()).select_from(model).where(model.firm_id == firm_id)) or 0
        )

    return {"members": count(Membership), "assessments": count(Assessment), "files": count(Evidence)}
