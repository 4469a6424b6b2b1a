"""A firm's answers to one framework, the problems found in them, and their validation."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import AnswerType, Framework, Text
from .tables import ItemTable, tables_for
from .types import kind_of
from .types.number import NUMBER_LIMIT
from .values import parse_date

__all__ = [
    "CODES",
    "NUMBER_LIMIT",
    "InvalidSubmission",
    "Problem",
    "Submission",
    "check_answer",
    "problem",
    "validate",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission.

    `item` is the item id concerned (None for the submission as a whole), `code` a stable machine key
    (see `CODES`), `message` a sentence in both product languages.
    """

    item: str | None
    code: str
    message: Text

    def __str__(self) -> str:
        return f"{self.item}: {self.message.en}" if self.item is not None else self.message.en

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "code": self.code,
            "message": {"zh": self.message.zh, "en": self.message.en},
        }


class InvalidSubmission(ValueError):
    """Raised by `score` (and `Submission.from_json`) for input that cannot be scored as given."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the submission: {lines}{more}")


# code -> (English, Chinese) message templates; {item}, {value} and {detail} are filled in.
CODES: dict[str, tuple[str, str]] = {
    "bad_shape": ("The submission is malformed: {detail}.", "提交的数据格式不正确：{detail}。"),
    "unknown_field": ("Unknown field {detail!r} in the submission.", "提交的数据中有未知字段“{detail}”。"),
    "unknown_mode": (
        "Unknown assessment mode {value!r}; this framework has: {detail}.",
        "未知的评估模式“{value}”；本框架的模式为：{detail}。",
    ),
    "unknown_item": ("There is no question {item!r} in this framework.", "本框架中没有题目“{item}”。"),
    "unknown_na_item": (
        "Not applicable was declared for {item!r}, which is not a question of this framework.",
        "对“{item}”声明了不适用，但本框架中没有这道题。",
    ),
    "unknown_evidence_item": (
        "Evidence is listed for {item!r}, which is not a question of this framework.",
        "为“{item}”列出了证据，但本框架中没有这道题。",
    ),
    "wrong_type": (
        "{item}: expected {detail}, got {value!r}.",
        "{item}：应为{detail_zh}，实际为 {value!r}。",
    ),
    "out_of_range": (
        "{item}: {value} is outside the allowed range {detail}.",
        "{item}：{value} 超出允许范围 {detail}。",
    ),
    "number_too_large": (
        "{item}: {value} is too large: a number must be less than 10^15 in size.",
        "{item}：{value} 过大：数字的绝对值须小于 10^15。",
    ),
    "unknown_option": (
        "{item}: {value!r} is not one of the options ({detail}).",
        "{item}：“{value}”不是可选项之一（{detail}）。",
    ),
    "unknown_level": (
        "{item}: {value!r} is not a level of the scale used in this mode ({detail}).",
        "{item}：“{value}”不是本模式所用评分等级之一（{detail}）。",
    ),
    "no_scale_for_mode": (
        "{item}: this question is not asked in mode {detail!r}.",
        "{item}：此题在“{detail}”模式下不作答。",
    ),
    "bad_date": (
        "{item}: {value!r} is not a date in the form YYYY-MM-DD.",
        "{item}：{value!r} 不是 YYYY-MM-DD 格式的日期。",
    ),
    "missing_as_of": (
        "{item}: a date answer needs the scoring date (as_of).",
        "{item}：日期类答案需要提供评分日期（as_of）。",
    ),
    "na_not_allowed": (
        "{item}: this question may not be declared not applicable.",
        "{item}：此题不允许声明为不适用。",
    ),
    "na_blank_justification": (
        "{item}: a not-applicable declaration needs a written justification.",
        "{item}：声明不适用时必须填写理由。",
    ),
    "answered_and_na": (
        "{item}: the question is both answered and declared not applicable; keep one.",
        "{item}：此题既有答案又被声明为不适用，请只保留其一。",
    ),
}


def problem(code: str, item: str | None = None, value: object = None, detail: str = "") -> Problem:
    """Build a Problem with its bilingual message from `CODES`."""
    en, zh = CODES[code]
    detail_zh = detail
    if code == "wrong_type":
        detail, detail_zh = kind_of(AnswerType(detail)).name
    fields = {"item": item, "value": value, "detail": detail, "detail_zh": detail_zh}
    return Problem(item, code, Text(zh=zh.format(**fields), en=en.format(**fields)))


@dataclass(frozen=True)
class Submission:
    """A firm's answers to one framework, with everything scoring depends on (scoring is pure).

    `answers` maps item ids to JSON values; `na` maps item ids to the firm's written justification
    for declaring them not applicable; `evidence` holds the ids of items with evidence attached;
    `profile` the firm's profile facts (see docs/frameworks.md); `mode` None means the framework's
    default mode; `as_of` is the scoring date, required when a date item is answered (the engine
    never reads the clock).
    """

    answers: Mapping[str, object] = field(default_factory=dict)
    na: Mapping[str, str] = field(default_factory=dict)
    evidence: frozenset[str] = frozenset()
    profile: Mapping[str, object] = field(default_factory=dict)
    mode: str | None = None
    as_of: datetime.date | None = None

    _KEYS = ("answers", "na", "evidence", "mode", "profile", "as_of", "framework", "version")

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, object],
        *,
        profile: Mapping[str, object] | None = None,
        as_of: datetime.date | None = None,
    ) -> Submission:
        """Build a submission from the CLI file shape.

        `{"answers": {...}, "na": {...}, "evidence": [...], "mode": optional}`; a file may also carry
        `"profile"` and `"as_of"` (used when the keyword arguments are not given) and, for the
        reader's benefit, `"framework"` and `"version"` (not checked here). Any other key, or a value
        of the wrong shape, raises `InvalidSubmission`.
        """
        problems: list[Problem] = []
        if not isinstance(data, Mapping):
            raise InvalidSubmission([problem("bad_shape", detail="the top level must be an object")])
        for key in data:
            if key not in cls._KEYS:
                problems.append(problem("unknown_field", detail=str(key)))
        answers = data.get("answers", {})
        if not isinstance(answers, Mapping) or not all(isinstance(k, str) for k in answers):
            problems.append(problem("bad_shape", detail='"answers" must be an object of item id -> value'))
            answers = {}
        na = data.get("na", {})
        if not isinstance(na, Mapping) or not all(isinstance(k, str) for k in na):
            problems.append(problem("bad_shape", detail='"na" must be an object of item id -> justification'))
            na = {}
        evidence = data.get("evidence", [])
        if not isinstance(evidence, (list, tuple)) or not all(isinstance(e, str) for e in evidence):
            problems.append(problem("bad_shape", detail='"evidence" must be a list of item ids'))
            evidence = []
        mode = data.get("mode")
        if mode is not None and not isinstance(mode, str):
            problems.append(problem("bad_shape", detail='"mode" must be a string'))
            mode = None
        if profile is None:
            file_profile = data.get("profile", {})
            if not isinstance(file_profile, Mapping):
                problems.append(problem("bad_shape", detail='"profile" must be an object'))
                file_profile = {}
            profile = file_profile
        if as_of is None and data.get("as_of") is not None:
            as_of = parse_date(data.get("as_of"))
            if as_of is None:
                problems.append(problem("bad_shape", detail='"as_of" must be a date YYYY-MM-DD'))
        if problems:
            raise InvalidSubmission(problems)
        return cls(
            answers=dict(answers),
            na={str(k): v for k, v in na.items()},
            evidence=frozenset(evidence),
            profile=dict(profile),
            mode=mode,
            as_of=as_of,
        )

    def to_json(self) -> dict[str, object]:
        """The CLI file shape (the inverse of `from_json`; evidence sorted, profile and as_of included)."""
        out: dict[str, object] = {"answers": dict(self.answers), "na": dict(self.na)}
        out["evidence"] = sorted(self.evidence)
        if self.mode is not None:
            out["mode"] = self.mode
        if self.profile:
            out["profile"] = dict(self.profile)
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


def check_answer(t: ItemTable, value: object, mode: str, as_of: datetime.date | None) -> Problem | None:
    """The problem with one answer to one item, or None."""
    found = t.rules.check(t, value, mode, as_of)
    return None if found is None else problem(found[0], t.item.id, value, found[1])


def validate(framework: Framework, submission: Submission) -> list[Problem]:
    """Every problem in a submission, in framework order (unknown ids last, sorted); [] = scorable."""
    t = tables_for(framework)
    mode = submission.mode if submission.mode is not None else framework.default_mode
    head: list[Problem] = []
    if mode not in t.modes:
        head.append(problem("unknown_mode", None, mode, ", ".join(m.id for m in framework.modes)))
    known: list[tuple[int, int, Problem]] = []
    unknown: list[tuple[str, int, Problem]] = []
    answers = submission.answers
    for iid, value in answers.items():
        it = t.by_id.get(iid) if isinstance(iid, str) else None
        if it is None:
            unknown.append((str(iid), 0, problem("unknown_item", str(iid))))
            continue
        p = check_answer(it, value, mode, submission.as_of)
        if p is not None:
            known.append((it.pos, 0, p))
    for iid, why in submission.na.items():
        it = t.by_id.get(iid) if isinstance(iid, str) else None
        if it is None:
            unknown.append((str(iid), 1, problem("unknown_na_item", str(iid))))
            continue
        if not it.item.allow_na:
            known.append((it.pos, 1, problem("na_not_allowed", iid)))
        elif not isinstance(why, str) or not why.strip():
            known.append((it.pos, 1, problem("na_blank_justification", iid)))
        if iid in answers:
            known.append((it.pos, 2, problem("answered_and_na", iid)))
    for iid in submission.evidence:
        if not isinstance(iid, str) or iid not in t.by_id:
            unknown.append((str(iid), 2, problem("unknown_evidence_item", str(iid))))
    known.sort(key=lambda k: (k[0], k[1]))
    unknown.sort(key=lambda k: (k[0], k[1]))
    return head + [p for _, _, p in known] + [p for _, _, p in unknown]
