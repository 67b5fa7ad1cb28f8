"""Admin forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class SignInForm(FlaskForm):
    name = StringField("Användarnamn", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Lösenord", validators=[DataRequired(), Length(max=256)])
    next = HiddenField(validators=[Optional(), Length(max=2000)])


class SignOutForm(FlaskForm):
    pass
