"""Forms of the citizen pages and the board; the idea rules themselves live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from consent_service.ideas.catalog import STAGES, TEAM_CLOSE_REASONS


class IdeaForm(FlaskForm):
    """The no-JavaScript idea form. Lengths are checked by services.check_submission."""

    title = StringField(validators=[Optional(), Length(max=10_000)])
    body = TextAreaField(validators=[Optional(), Length(max=20_000)])
    area = StringField(validators=[Optional(), Length(max=64)])
    name = StringField(validators=[Optional(), Length(max=1000)])
    email = StringField(validators=[Optional(), Length(max=1000)])
    contact_ok = BooleanField()
    topic = HiddenField(validators=[Optional(), Length(max=200)])
    page = HiddenField(validators=[Optional(), Length(max=4000)])
    lang = HiddenField(validators=[Optional(), Length(max=35)])
    form_token = HiddenField(validators=[Optional(), Length(max=200)])
    website = StringField(validators=[Optional(), Length(max=2000)])
    challenge = HiddenField(validators=[Optional(), Length(max=64)])


class CitizenActionForm(FlaskForm):
    """Withdraw the idea or delete the contact details: a CSRF token and nothing else."""


class WithdrawForm(CitizenActionForm):
    """The confirmation page's form: only a post that carries `confirm` withdraws the idea."""

    confirm = HiddenField(validators=[Optional(), AnyOf(("yes",))])


class MoveForm(FlaskForm):
    stage = StringField(validators=[AnyOf(STAGES)])
    close_reason = StringField(validators=[Optional(), AnyOf(TEAM_CLOSE_REASONS)])
    message = TextAreaField(validators=[Optional(), Length(max=2000)])
    back = HiddenField(validators=[Optional(), Length(max=200)])


class StepForm(FlaskForm):
    """The board's previous/next buttons: the direction comes from the pressed button."""

    direction = StringField(validators=[AnyOf(("previous", "next"))])
    back = HiddenField(validators=[Optional(), Length(max=200)])


class OwnerForm(FlaskForm):
    owner = StringField(validators=[Optional(), Length(max=12)])


class MailSettingsForm(FlaskForm):
    """A team member's own mail settings; the rules are in notify.save_settings."""

    email = StringField(validators=[Optional(), Length(max=1000)])
    digest = StringField(validators=[Optional(), Length(max=16)])
    mention = BooleanField()


class TagForm(FlaskForm):
    tag = StringField(validators=[DataRequired(), Length(max=200)])


class NoteForm(FlaskForm):
    body = TextAreaField(validators=[DataRequired(), Length(max=4000)])


class MessageForm(FlaskForm):
    body = TextAreaField(validators=[DataRequired(), Length(max=2000)])


class MergeForm(FlaskForm):
    target = StringField(validators=[DataRequired(), Length(max=40)])


class SpamForm(FlaskForm):
    action = StringField(validators=[AnyOf(("spam", "release"))])


class PublishForm(FlaskForm):
    """Show an idea on the open idea page, or take it off."""

    action = StringField(validators=[AnyOf(("publish", "unpublish"))])


class ChallengeForm(FlaskForm):
    """A challenge's form: the CSRF token. Its fields (one set per language) are checked by
    challenges.save_challenge."""


class AssessmentForm(FlaskForm):
    """A scorecard: the CSRF token. Its scores (one per criterion) and rationale are checked
    by assessment.record_assessment."""


class BulkForm(FlaskForm):
    """The board's bulk change: the CSRF token; the selection and target are checked by
    bulk.bulk_change."""


class SavedFilterForm(FlaskForm):
    """Save or delete a filter: the CSRF token; the name is checked by saved_filters."""


class CriterionForm(FlaskForm):
    """Add or remove a challenge's criterion: the CSRF token; checked by assessment."""
