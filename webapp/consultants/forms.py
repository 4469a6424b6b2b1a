from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length


class ConsultancyForm(FlaskForm):
    name = StringField(_l("Consultancy name"), validators=[DataRequired(), Length(max=200)])


class ImportForm(FlaskForm):
    """Answers from the framework's workbook into one of the firm's drafts (choices set per request)."""

    assessment = SelectField(_l("Into the draft"), coerce=int, validators=[DataRequired()])
    file = FileField(
        _l("Workbook (.xlsx)"),
        validators=[FileRequired(_l("Choose the workbook to import."))],
        render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
