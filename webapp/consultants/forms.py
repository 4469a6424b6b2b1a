from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class ConsultancyForm(FlaskForm):
    name = StringField(_l("Consultancy name"), validators=[DataRequired(), Length(max=200)])
