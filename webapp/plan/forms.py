from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp.models import ACTION_STATUSES

STATUS_LABELS = {
    "open": _l("Open"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "dropped": _l("Dropped"),
}


def _int_or_none(v: Any) -> int | None:
    if v in (None, "", "None"):
        return None
    return int(v)


class ActionForm(FlaskForm):
    """One action. `items` and `targets` are "framework:id" values; all must be of one framework."""

    title = StringField(_l("What is to be done"), validators=[DataRequired(), Length(max=1000)])
    items = SelectMultipleField(_l("Questions it improves"), validators=[Optional()])
    targets = SelectMultipleField(_l("Targets it serves"), validators=[Optional()])
    owner = SelectField(lazy_pgettext("action", "Owner"), coerce=_int_or_none, validators=[Optional()])
    due_on = DateField(_l("Due on"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    evidence = SelectField(_l("Evidence"), coerce=_int_or_none, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        items: list[tuple[str, str, str]],
        targets: list[tuple[str, str]],
        evidence: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = [(None, "—"), *owners]
        self.items.choices = _grouped(items)
        self.targets.choices = targets
        self.evidence.choices = [(None, "—"), *evidence]
        self.status.choices = [(s, str(STATUS_LABELS[s])) for s in ACTION_STATUSES]

    def validate_targets(self, field: Any) -> None:
        frameworks = {v.partition(":")[0] for v in (self.items.data or []) + (field.data or [])}
        if len(frameworks) > 1:
            raise ValidationError(_("The questions and targets of one action must be of one framework."))

    def framework(self) -> str | None:
        for v in (self.items.data or []) + (self.targets.data or []):
            return v.partition(":")[0]
        return None


def _grouped(items: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for value, label, group in items:
        out.setdefault(group, []).append((value, label))
    return out
