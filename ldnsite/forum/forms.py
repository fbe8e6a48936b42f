"""Forum forms. Field names are a contract (design.md): title, body, reason.

Why a honeypot field: spam scripts fill every input they find; people never
see this one (it is hidden with CSS, not offered to screen readers), so a
value in it means a script sent the form.
"""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ldnsite.sanitising.lookalike import one_line

BODY_MAX = 10_000
TITLE_MIN, TITLE_MAX = 5, 150
REASON_MIN, REASON_MAX = 3, 1000


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _body_field(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[_strip],
        validators=[
            DataRequired("Enter your message"),
            Length(max=BODY_MAX, message=f"Your message must be {BODY_MAX:,} characters or fewer"),
        ],
    )


class _Editor(FlaskForm):
    """Shared by every form with a post body: the honeypot and the two submit buttons."""

    website = StringField("Leave this field empty")
    # One value per form page: a double click or a resent request carries the same one (see posting.submission_key).
    nonce = HiddenField(default=lambda: secrets.token_urlsafe(24))
    submit = SubmitField("Post")
    preview = SubmitField("Preview")

    @property
    def is_preview(self) -> bool:
        return bool(self.preview.data)

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.website.data or "").strip())


class TopicForm(_Editor):
    title = StringField(
        "Title",
        filters=[one_line],
        validators=[
            DataRequired("Enter a title"),
            Length(min=TITLE_MIN, max=TITLE_MAX, message=f"The title must be between {TITLE_MIN} and {TITLE_MAX} characters"),
        ],
    )
    body = _body_field("Your message")
    page_slug = HiddenField()


class ReplyForm(_Editor):
    body = _body_field("Your reply")


class EditForm(_Editor):
    body = _body_field("Your message")


AT_RISK = "at_risk"
OTHER = "other"
# Report reasons (value, what the member and the moderators read). The field stays `reason` (design.md).
REPORT_REASONS = (
    ("spam", "Spam or advertising"),
    ("medical", "Unsafe or misleading medical advice"),
    ("unkind", "Unkind or harassing"),
    ("personal", "Personal information"),
    (AT_RISK, "Someone may be at risk"),
    (OTHER, "Other"),
)
REPORT_LABELS = dict(REPORT_REASONS)


class ReportForm(FlaskForm):
    """A reason chosen from a list, with optional details (required for "Other").

    A client that sends its own wording as `reason` (the earlier free-text
    form) has it kept as the details of an "Other" report.
    """

    reason = RadioField(
        "Why should a moderator look at this post?",
        choices=[SelectChoice(v, lbl) for v, lbl in REPORT_REASONS],
        validate_choice=False,
        filters=[_strip],
    )
    details = TextAreaField(
        "Details (optional)",
        filters=[_strip],
        validators=[Length(max=REASON_MAX, message=f"The details must be {REASON_MAX:,} characters or fewer")],
    )
    submit = SubmitField("Send report")

    def validate_reason(self, field) -> None:
        value = field.data or ""
        if not value:
            raise ValidationError("Choose why you are reporting this post")
        if value in REPORT_LABELS:
            return
        if not REASON_MIN <= len(value) <= REASON_MAX:
            raise ValidationError(f"The reason must be between {REASON_MIN} and {REASON_MAX:,} characters")

    def validate_details(self, field) -> None:
        if self.reason.data == OTHER and not field.data:
            raise ValidationError("Say what is wrong with the post, because you chose Other")

    @property
    def category(self) -> str:
        return self.reason.data if self.reason.data in REPORT_LABELS else OTHER

    @property
    def detail_text(self) -> str | None:
        if self.reason.data in REPORT_LABELS:
            return self.details.data or None
        return self.reason.data  # free text from a client without the list

    @property
    def label(self) -> str:
        return REPORT_LABELS[self.category]


class ActionOnlyForm(FlaskForm):
    """A confirmation button: the CSRF token is the only field."""
