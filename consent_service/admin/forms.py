"""Admin forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


def storable_text(form: Any, field: Field) -> None:
    """Refuse text the database cannot store (NUL; lone surrogates) before any query runs."""
    value = field.data or ""
    if "\x00" in value:
        raise ValidationError("Texten innehåller otillåtna tecken.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Texten innehåller otillåtna tecken.") from None


class SignInForm(FlaskForm):
    name = StringField("Användarnamn", validators=[DataRequired(), Length(max=64), storable_text])
    password = PasswordField(
        "Lösenord", validators=[DataRequired(), Length(max=256), storable_text]
    )
    next = HiddenField(validators=[Optional(), Length(max=2000), storable_text])


class SignOutForm(FlaskForm):
    pass


class EndSessionsForm(FlaskForm):
    pass


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Nuvarande lösenord", validators=[DataRequired(), Length(max=256), storable_text]
    )
    new_password = PasswordField(
        "Nytt lösenord", validators=[DataRequired(), Length(max=256), storable_text]
    )
    new_password_again = PasswordField(
        "Nytt lösenord igen", validators=[DataRequired(), Length(max=256), storable_text]
    )
