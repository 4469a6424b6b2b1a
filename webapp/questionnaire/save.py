"""The one save path: every change of answers goes through `save_answers` (the autosave, the section
form, the API, and a shared fact carried into other drafts).

Every value is checked with the engine first; then the assessment's row is locked (`answers.lock`),
its status checked, each answer written with a conditional upsert (`INSERT ... ON CONFLICT DO UPDATE
... WHERE version = <the version read>`) and its history row added. Two editors never overwrite each
other, even when their requests race: the loser sees a conflict with the winner's answer. `submit`
takes the same lock, so a save either lands before the submission or is refused as read-only.

When a result says something failed (`SaveResult.ok` is False), the caller must not commit: the web
request rolls back on its 4xx status, so a refused change saves nothing, not even its valid part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import scoring
from scoring.model import Framework, Item
from webapp.db import utcnow
from webapp.models import Assessment, User
from webapp.orgs.services import profile_facts
from webapp.questionnaire import answers
from webapp.questionnaire.facts import lock_facts, sets_fact, share_fact


def check_changes(
    a: Assessment,
    fw: Framework,
    states: Mapping[str, answers.AnswerState],
    changes: Mapping[str, answers.ItemChange],
    as_of: dt.date,
) -> tuple[list[answers.ItemError], dict[str, tuple[Any, Any, Any]]]:
    """Every problem with a set of changes, and the state each changed item would get."""
    errors: list[answers.ItemError] = []
    targets: dict[str, tuple[Any, Any, Any]] = {}
    for item_id, ch in changes.items():
        item = fw.item(item_id)
        if item is None:
            errors.append(answers.ItemError(item_id, "unknown_item"))
            continue
        cur = states.get(item_id) or answers.AnswerState(item_id)
        value, na, narrative = answers.target_state(cur, ch)
        if isinstance(value, str) and len(value) > answers.TEXT_MAX:
            errors.append(answers.ItemError(item_id, "too_long"))
        if isinstance(na, str) and len(na) > answers.NA_REASON_MAX:
            errors.append(answers.ItemError(item_id, "too_long"))
        if narrative is not None:
            if not isinstance(narrative, str):
                errors.append(answers.ItemError(item_id, "bad_narrative"))
            elif a.mode not in item.narrative_modes:
                errors.append(answers.ItemError(item_id, "no_narrative"))
            elif len(narrative) > answers.NARRATIVE_MAX:
                errors.append(answers.ItemError(item_id, "too_long"))
        targets[item_id] = (value, na, narrative)
    sub = scoring.Submission(
        answers={k: v[0] for k, v in targets.items() if v[0] is not None},
        na={k: v[1] for k, v in targets.items() if v[1] is not None},
        mode=a.mode,
        as_of=as_of,
    )
    for p in scoring.validate(fw, sub):
        errors.append(answers.ItemError(p.item, p.code, p))
    return errors, targets


def save_answers(
    a: Assessment,
    changes: Mapping[str, answers.ItemChange],
    user: User | None,
    expected_versions: Mapping[str, int] | None = None,
    *,
    day: dt.date | None = None,
    score: bool = True,
) -> answers.SaveResult:
    """Validate every change with the engine, then write them all, or nothing: with the assessment
    locked and still a draft (`answers.lock`), each answer written only if its version is still the one read,
    with its history row. The one way answers change.

    `expected_versions` (item -> the version the editor started from) turns a stale edit into a
    conflict instead of an overwrite. A change that sets a shared fact also updates the firm's fact
    and the same fact in the firm's other draft assessments, with history rows there. Refused (`ok`
    False): a submitted assessment (`read_only`), any invalid value (`errors`), any stale version
    (`conflicts`).

    With `score` it is scored and its headline numbers kept (`result`, `states` of every answer).
    Without, it only writes, as the autosave does: the kept numbers are marked out of date (`scored_at`
    None) and scored again when next read (`fresh_summaries`, `progress`).
    """
    out = answers.SaveResult()
    if a.status != "draft":
        out.errors.append(answers.ItemError(None, "read_only"))
        return out
    fw = answers.framework(a)
    as_of = answers.scoring_date(a, day)
    states = answers.answer_states(a.firm_id, a.id, None if score else changes)
    errors, targets = check_changes(a, fw, states, changes, as_of)
    if errors:
        out.errors = errors
        return out
    for item_id, expected in (expected_versions or {}).items():
        if item_id not in targets:
            continue
        cur = states.get(item_id) or answers.AnswerState(item_id)
        if cur.version != expected and not answers.same(targets[item_id], cur):
            out.conflicts.append(answers.Conflict(item_id, expected, cur, _name(cur.updated_by_id)))
    if out.conflicts:
        return out
    if any(sets_fact(fw, item_id, target, states) for item_id, target in targets.items()):
        lock_facts(a.firm_id)  # before anything is locked or written: see `lock_facts`
    if not answers.lock(a):
        out.errors.append(answers.ItemError(None, "read_only"))  # submitted since it was read
        return out

    now = utcnow()
    user_id = user.id if user is not None else None
    facts: list[tuple[Item, Any]] = []
    for item_id, target in targets.items():
        cur = states.get(item_id) or answers.AnswerState(item_id)
        if answers.same(target, cur):
            continue
        item = fw.item(item_id)
        assert item is not None
        new = answers.write_answer(a, item, cur, target, user_id=user_id, now=now)
        if new is None:  # another editor's write landed between our read and our write
            fresh = answers.answer_states(a.firm_id, a.id, [item_id]).get(item_id) or answers.AnswerState(
                item_id
            )
            expected = (expected_versions or {}).get(item_id, cur.version)
            out.conflicts.append(answers.Conflict(item_id, expected, fresh, _name(fresh.updated_by_id)))
            continue
        states[item_id] = new
        out.saved[item_id] = new
        if item.fact and new.na_reason is None and new.value != cur.value:
            facts.append((item, new.value))
    if out.conflicts:
        return out  # the caller does not commit: what was written is rolled back
    for item, value in facts:
        share_fact(a, item, value, user_id, now, as_of)
    out.states = states
    if not score:
        return out
    evidence = answers.evidence_items(a.firm_id, a.id)
    out.result = answers.score_states(a, fw, states, evidence, a.firm, as_of, explain=False)
    answers.store_summary(a, out.result, changed_at=now if out.saved else None)
    out.profile = profile_facts(a.firm, as_of)
    return out


def _name(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return answers.user_names([user_id]).get(user_id)
