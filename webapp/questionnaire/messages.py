"""What the questionnaire says to people about refused changes, submit problems and upload errors.

The services return codes; these turn them into sentences in the reader's language (the engine's own
bilingual message is the fallback for a code not listed here).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from scoring.model import Item
from scoring.submission import NUMBER_LIMIT
from webapp.i18n import current_lang
from webapp.questionnaire.answers import ItemError
from webapp.questionnaire.evidence import EvidenceRefused
from webapp.questionnaire.present import size_text
from webapp.questionnaire.submit import SubmitProblem
from webapp.results import values

_SIMPLE = {
    "read_only": _l(
        "This assessment has been submitted and is read-only. Start a new round to change answers."
    ),
    "unknown_item": _l("There is no such question in this assessment."),
    "too_long": _l("This text is too long."),
    "bad_narrative": _l("The written self-evaluation must be text."),
    "no_narrative": _l("This question takes no written self-evaluation in this mode."),
    "na_not_allowed": _l("This question may not be declared not applicable."),
    "na_blank_justification": _l("Say why this question does not apply to your firm."),
    "answered_and_na": _l("Either answer the question or declare it not applicable, not both."),
    "bad_date": values.BAD_DATE,
    "unknown_option": _l("Choose one of the options."),
    "unknown_level": _l("Choose one of the levels."),
    "no_scale_for_mode": _l("This question is not asked in this mode."),
}


def error_message(err: ItemError, item: Item | None) -> str:
    code = err.code
    if code in ("wrong_type", "out_of_range") and item is not None:
        return values.widget(item).expect(item)
    if code == "number_too_large":
        return _(
            "This number is too large: enter a number less than %(limit)s in size.",
            limit=f"{int(NUMBER_LIMIT):,}",
        )
    if code in _SIMPLE:
        return str(_SIMPLE[code])
    if err.problem is not None:
        return err.problem.message.get(current_lang())
    return _("This answer could not be saved.")


_SUBMIT = {
    "read_only": _SIMPLE["read_only"],
    "unanswered": _l("This required question is not answered."),
    "evidence_missing": _l("This answer needs evidence: attach a file."),
    "narrative_missing": _l("Write the self-evaluation for this item."),
}


def submit_message(p: SubmitProblem) -> str:
    return str(_SUBMIT[p.code])


def evidence_message(refused: EvidenceRefused, limit_bytes: int) -> str:
    code = refused.code
    if code == "too_large":
        return too_large_message(limit_bytes)
    if code == "bad_type":
        return _(
            "This file type is not accepted. Attach a PDF, a PNG or JPEG image, "
            "or an Office file (Word, Excel, PowerPoint)."
        )
    if code == "name_mismatch" and refused.kind is not None:
        return _(
            "The file's name does not match its content: it is really a %(kind)s file. "
            "Rename it or attach the right file.",
            kind=refused.kind.kind.upper(),
        )
    if code == "empty":
        return _("Choose a file to attach.")
    if code == "read_only":
        return str(_SIMPLE["read_only"])
    return str(_SIMPLE["unknown_item"])


def too_large_message(limit_bytes: int) -> str:
    return _("The file is too large: the limit is %(size)s.", size=size_text(limit_bytes))


def comment_message(code: str) -> str:
    if code == "empty":
        return _("Write something before posting the comment.")
    if code == "too_long":
        return str(_SIMPLE["too_long"])
    return str(_SIMPLE["unknown_item"])
