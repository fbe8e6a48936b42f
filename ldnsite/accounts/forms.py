"""Account forms. Field names for register (email, display_name, password) and
sign-in (email, password) are a contract: tests and password managers rely on them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ldnsite.accounts import passwords, validation
from ldnsite.db import get_session

# Length checks here are generous on purpose: the rules with friendlier
# messages live in validation.py and passwords.py. These only stop absurd input.
EMAIL_LIMIT = Length(max=validation.EMAIL_MAX, message=f"Your email address must be {validation.EMAIL_MAX} characters or fewer")
PASSWORD_LIMIT = Length(max=passwords.MAX_LENGTH, message=f"Your password must be {passwords.MAX_LENGTH} characters or fewer")


class EmailMixin:
    """Normalises the address in place, so the view sees one spelling per mailbox."""

    def validate_email(self, field) -> None:
        try:
            field.data = validation.normalise_email(field.data)
        except validation.InvalidEmail as err:
            raise ValidationError(str(err)) from err


class RegisterForm(EmailMixin, FlaskForm):
    email = StringField("Email address", validators=[DataRequired("Enter your email address"), EMAIL_LIMIT])
    display_name = StringField(
        "Display name",
        validators=[
            DataRequired("Enter a display name"),
            Length(max=validation.DISPLAY_NAME_MAX, message=f"Your display name must be {validation.DISPLAY_NAME_MAX} characters or fewer"),
        ],
    )
    password = PasswordField("Create a password", validators=[DataRequired("Enter a password"), PASSWORD_LIMIT])
    # Honeypot: people never see or fill it; a bot that fills every field does.
    website = StringField("Leave this field empty")

    def validate_display_name(self, field) -> None:
        field.data = validation.clean_display_name(field.data)
        problem = validation.display_name_problem(get_session(), field.data)
        if problem:
            raise ValidationError(problem)

    def validate_password(self, field) -> None:
        problem = passwords.password_problem(field.data, email=self.email.data, display_name=self.display_name.data)
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired("Enter your email address"), EMAIL_LIMIT])
    password = PasswordField("Password", validators=[DataRequired("Enter your password"), PASSWORD_LIMIT])
    next = HiddenField()


class ResetRequestForm(EmailMixin, FlaskForm):
    email = StringField("Email address", validators=[DataRequired("Enter your email address"), EMAIL_LIMIT])


class NewPasswordMixin:
    """A new password, checked against the rules and against the account's own email and name."""

    account_email: str | None = None
    account_name: str | None = None

    def validate_new_password(self, field) -> None:
        problem = passwords.password_problem(field.data, email=self.account_email, display_name=self.account_name)
        if problem:
            raise ValidationError(problem)


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password"), PASSWORD_LIMIT])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password"), PASSWORD_LIMIT])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password"), PASSWORD_LIMIT])


class ChangeEmailForm(EmailMixin, FlaskForm):
    email = StringField("New email address", validators=[DataRequired("Enter your new email address"), EMAIL_LIMIT])
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password"), PASSWORD_LIMIT])


class DisplayNameForm(FlaskForm):
    display_name = StringField(
        "Display name",
        validators=[
            DataRequired("Enter a display name"),
            Length(max=validation.DISPLAY_NAME_MAX, message=f"Your display name must be {validation.DISPLAY_NAME_MAX} characters or fewer"),
        ],
    )
    user_id: int | None = None

    def validate_display_name(self, field) -> None:
        field.data = validation.clean_display_name(field.data)
        problem = validation.display_name_problem(get_session(), field.data, exclude_user_id=self.user_id)
        if problem:
            raise ValidationError(problem)


class NotificationsForm(FlaskForm):
    notify_replies = BooleanField("Email me when someone replies to a topic I started")


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password to confirm"), PASSWORD_LIMIT])


class ActionForm(FlaskForm):
    """A button alone (resend the link, opt back in): CSRF is the only field."""
