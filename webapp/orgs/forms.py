from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from webapp.i18n import current_lang
from webapp.models import CONSULTANCY_ROLES, FIRM_ROLES, REGULATOR_ROLES
from webapp.refdata import credit_code, industries, regions


def _region_choices() -> list[SelectChoice]:
    lang = current_lang()
    out = [SelectChoice("", "—")]
    for city in regions.cities():
        city_name = regions.name(city.code, lang)
        out.append(SelectChoice(city.code, city_name, optgroup=city_name))
        for county in regions.counties(city.code):
            out.append(
                SelectChoice(
                    county.code, f"{city_name} · {regions.name(county.code, lang)}", optgroup=city_name
                )
            )
    return out


def _industry_choices() -> list[SelectChoice]:
    lang = current_lang()
    out = [SelectChoice("", "—")]
    for division in industries.divisions():
        group = f"{division.section} {industries.name(division.section, lang)}"
        out.append(
            SelectChoice(
                division.code, f"{division.code} {industries.name(division.code, lang)}", optgroup=group
            )
        )
    return out


# What the firm's Numeric(14, 2) amounts hold: a larger figure is a form error, not a database error.
MAX_AMOUNT_10K = Decimal("999999999999.99")
_CENT = Decimal("0.01")


class AmountField(DecimalField):
    """An amount with two decimals, as its Numeric(14, 2) column holds it. Anything but a finite
    number ("sNaN", "Infinity") is a form error, and a tiny one (1e-999999999) is rounded to cents
    rather than sent to the database as given."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is None:
            return
        if not self.data.is_finite():
            self.data = None
            raise ValueError(_("Enter a number."))
        if self.data.copy_abs() <= MAX_AMOUNT_10K:
            self.data = self.data.quantize(_CENT)


class FirmForm(FlaskForm):
    name = StringField(_l("Firm name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(
        _l("Unified social credit code (统一社会信用代码)"), validators=[DataRequired(), Length(max=40)]
    )
    region_code = SelectField(_l("Registered in (county or district)"), validators=[DataRequired()])
    industry_division = SelectField(_l("Industry (GB/T 4754-2017 division)"), validators=[DataRequired()])
    employees = IntegerField(_l("Employees"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    revenue_10k = AmountField(
        _l("Revenue last year (10,000 CNY)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT_10K)],
    )
    total_assets_10k = AmountField(
        _l("Total assets (10,000 CNY)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT_10K)],
    )
    above_scale = BooleanField(_l("Above designated size (规模以上)"))
    founded_on = DateField(_l("Founded on"), validators=[Optional()])
    share_statistics = BooleanField(_l("Count this firm in the market regulators’ statistics"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region_code.choices = _region_choices()
        self.industry_division.choices = _industry_choices()

    def validate_credit_code(self, field: Any) -> None:
        problems = credit_code.validate(field.data or "")
        if problems:
            raise ValidationError(" ".join(credit_code.describe(p, current_lang()) for p in problems))
        field.data = credit_code.normalise(field.data)


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])
    role = SelectField(_l("Role"), validators=[DataRequired()])

    def __init__(self, *args: Any, kind: str = "firm", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = {"firm": FIRM_ROLES, "regulator": REGULATOR_ROLES}.get(kind, CONSULTANCY_ROLES)
        self.role.choices = [SelectChoice(r, str(ROLE_LABELS[r])) for r in roles]
        if not self.role.data:  # least power by default
            self.role.data = {"firm": "editor", "regulator": "analyst"}.get(kind, "consultant")


class GrantForm(FlaskForm):
    code = StringField(_l("Consultancy code"), validators=[DataRequired(), Length(max=12)])


ROLE_LABELS = {
    "owner": _l("Owner"),
    "editor": _l("Editor"),
    "viewer": _l("Viewer"),
    "consultant": _l("Consultant"),
    "analyst": _l("Analyst"),
    "client": _l("Client firm"),
}

ACCESS_LABELS = {
    "read": _l("Read: see the assessments, verdicts, plan and reports"),
    "edit": _l("Edit: also answer the questions and make the plan"),
}


class ClientInviteForm(FlaskForm):
    """A consultancy invites a firm's owner by email to become its client."""

    email = EmailField(
        _l("Firm owner’s email"), validators=[DataRequired(), Email(check_deliverability=False)]
    )
    firm_name = StringField(_l("Firm name (optional)"), validators=[Optional(), Length(max=200)])


class ClientAcceptForm(FlaskForm):
    """A firm's owner accepts a consultancy's invitation: for which of their firms, with what access."""

    firm = SelectField(_l("Your firm"), validators=[DataRequired()])
    access = RadioField(_l("Access"), validators=[DataRequired()], default="read")

    def __init__(self, *args: Any, firms: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.firm.choices = [SelectChoice(str(fid), name) for fid, name in firms]
        self.access.choices = [(k, str(v)) for k, v in ACCESS_LABELS.items()]


class HandoverForm(FlaskForm):
    email = EmailField(
        _l("Future owner’s email"), validators=[DataRequired(), Email(check_deliverability=False)]
    )


class AgencyForm(FlaskForm):
    name = StringField(_l("Agency name"), validators=[DataRequired(), Length(max=200)])
    jurisdiction_code = SelectField(
        _l("Jurisdiction (sees this region and everything below it)"), validators=[DataRequired()]
    )
    email = EmailField(
        _l("First member’s email (becomes its owner)"),
        validators=[DataRequired(), Email(check_deliverability=False)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = current_lang()
        out = [SelectChoice("330000", regions.name("330000", lang))]
        for city in regions.cities():
            out.append(SelectChoice(city.code, city.name(lang)))
            out.extend(SelectChoice(c.code, "　" + c.name(lang)) for c in regions.counties(city.code))
        self.jurisdiction_code.choices = out
