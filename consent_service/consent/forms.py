"""The no-JavaScript settings form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import AnyOf, Length, Optional

ACTIONS = ("accept_all", "necessary_only", "save", "withdraw")


class ConsentForm(FlaskForm):
    functional = BooleanField()
    statistics = BooleanField()
    action = StringField(validators=[AnyOf(ACTIONS)])
    next = HiddenField(validators=[Optional(), Length(max=2000)])
    lang = HiddenField(validators=[Optional(), Length(max=35)])
