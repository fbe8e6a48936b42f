"""Forms for opting out and back in: one email field each (the field name is part of the site's contract)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Email, Length

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


class EmailForm(FlaskForm):
    email = StringField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
            Email(EMAIL_FORMAT, check_deliverability=False),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class OptOutForm(EmailForm):
    """/opt-out."""


class OptInForm(EmailForm):
    """/opt-in: asks for a confirmation email (double opt-in)."""


class ConfirmForm(FlaskForm):
    """Only a CSRF token: the button on the opt-in confirmation page."""
