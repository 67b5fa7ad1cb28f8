"""Admin forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from consent_service.admin.models import Role
from consent_service.admin.nav import ROLE_LABELS


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


# The narrowest roles first, so that a new account starts with the least; admin last.
ROLE_CHOICES = [
    (role.value, ROLE_LABELS[role.value].capitalize())
    for role in (Role.EDITOR, Role.INNOVATION, Role.PRIVACY_OFFICER, Role.ADMIN)
]


class UserChangeForm(FlaskForm):
    role_choices = ROLE_CHOICES  # (value, label) for the page's <select>
    role = StringField(
        "Roll", validators=[DataRequired(), AnyOf([role.value for role in Role], "Okänd roll.")]
    )
    email = StringField(
        "E-post (frivilligt)", validators=[Optional(), Length(max=254), storable_text]
    )


class UserCreateForm(UserChangeForm):
    name = StringField("Användarnamn", validators=[DataRequired(), Length(max=64), storable_text])


class AccountActionForm(FlaskForm):
    """Disable, enable, a new password link: the button is the whole form."""


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "Nytt lösenord", validators=[DataRequired(), Length(max=256), storable_text]
    )
    new_password_again = PasswordField(
        "Nytt lösenord igen", validators=[DataRequired(), Length(max=256), storable_text]
    )
