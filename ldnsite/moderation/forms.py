"""Moderation forms. Field names are a contract: the removal reason is `reason`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from ldnsite.accounts.models import ROLES
from ldnsite.forum.crisis import normalise
from ldnsite.moderation.watched_words import ACTIONS

OTHER = "Other"
# Standard reasons, so the log can be read and counted; free text adds the particulars.
REMOVAL_REASONS = (
    "Medical misinformation",
    "Unsafe dosing or treatment advice",
    "Spam or advertising",
    "Personal attack or harassment",
    "Personal information",
    "Off-topic",
    OTHER,
)

SUSPENSION_PERIODS = (("1", "1 day"), ("7", "7 days"), ("30", "30 days"), ("indefinite", "Indefinitely, until lifted"))


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


class ActionForm(FlaskForm):
    """A button with nothing to fill in: the form exists for its CSRF token."""

    next = HiddenField()


class RemoveForm(FlaskForm):
    reason = SelectField(
        "Reason for removal",
        choices=_choices([("", "Choose a reason"), *((r, r) for r in REMOVAL_REASONS)]),
        validate_choice=False,  # a client may send its own wording; it is kept as given (see reason_text)
        validators=[InputRequired("Choose a reason for removing this post")],
    )
    detail = TextAreaField(
        "Details for the author (optional, required for Other)",
        validators=[Length(max=1000, message="Details must be 1000 characters or fewer")],
    )
    next = HiddenField()

    def validate_reason(self, field) -> None:
        if not field.data.strip():
            raise ValidationError("Choose a reason for removing this post")
        if len(field.data) > 200:
            raise ValidationError("The reason must be 200 characters or fewer")

    def validate_detail(self, field) -> None:
        if self.reason.data == OTHER and not (field.data or "").strip():
            raise ValidationError("Explain the reason, because you chose Other")

    def reason_text(self) -> str:
        """What the log, the author and the post show: the chosen reason, then the details."""
        choice = self.reason.data.strip()
        detail = (self.detail.data or "").strip()
        if choice == OTHER:
            return detail
        return f"{choice}: {detail}" if detail else choice


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        "Reason for the suspension",
        validators=[
            InputRequired("Give a reason for the suspension"),
            Length(max=1000, message="The reason must be 1000 characters or fewer"),
        ],
    )
    period = SelectField(
        "How long",
        choices=_choices(SUSPENSION_PERIODS),  # the choice itself is validated: nothing else gets through
    )

    def validate_reason(self, field) -> None:
        if not field.data.strip():
            raise ValidationError("Give a reason for the suspension")

    def days(self) -> int | None:
        return None if self.period.data == "indefinite" else int(self.period.data)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=_choices((r, r.capitalize()) for r in ROLES))


class MemberSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name or email address", validators=[Length(max=254)])


class LogFilterForm(FlaskForm):
    """GET filters for the log. Unknown values are reported, never silently widened to "everything"."""

    class Meta:
        csrf = False

    moderator = SelectField("Moderator", choices=_choices([("", "Any moderator")]), validate_choice=False)
    action = SelectField("Action", choices=_choices([("", "Any action")]), validate_choice=False)

    def set_choices(self, moderators: list[tuple[int, str]], actions: dict[str, str]) -> None:
        self.moderator.choices = _choices([("", "Any moderator"), *moderators])
        self.action.choices = _choices([("", "Any action"), *actions.items()])

    def validate_moderator(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose a moderator from the list")

    def validate_action(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose an action from the list")


class WatchedWordForm(FlaskForm):
    phrase = StringField(
        "Word or phrase",
        validators=[
            InputRequired("Enter a word or phrase to watch"),
            Length(max=100, message="The word or phrase must be 100 characters or fewer"),
        ],
    )
    action = RadioField("What happens when a post uses it", choices=[], validate_choice=False)
    message = TextAreaField(
        "Message to the member (for Refuse)",
        validators=[Length(max=500, message="The message must be 500 characters or fewer")],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = _choices(ACTIONS)

    def validate_phrase(self, field) -> None:
        field.data = " ".join((field.data or "").split())
        if not normalise(field.data):
            raise ValidationError("Enter a word or phrase with at least one letter or number")

    def validate_action(self, field) -> None:
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError("Choose what happens when a post uses it")

    def validate_message(self, field) -> None:
        field.data = (field.data or "").strip()
        if self.action.data == "refuse" and not field.data:
            raise ValidationError("Write the message the member will see, because you chose Refuse")
