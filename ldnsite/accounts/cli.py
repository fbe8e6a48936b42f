"""`flask users create`, `set-role` and `purge-unconfirmed`: accounts for operators and the first moderators.

Why the password comes from standard input: a password on the command line
is visible to every user of the machine (ps) and lands in shell history.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from ldnsite.accounts import passwords, validation
from ldnsite.accounts.models import ROLES, User
from ldnsite.accounts.mydata import purge_unconfirmed
from ldnsite.db import get_session, utcnow

UNCONFIRMED_DAYS = 14


@click.group("users")
def users_cli() -> None:
    """Member accounts."""


@users_cli.command("create")
@click.argument("email")
@click.option("--name", "display_name", required=True, help="Display name shown next to posts (2-40 characters).")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_appcontext
def create_command(email: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create an active account with a confirmed EMAIL."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = get_session()
    try:
        email = validation.normalise_email(email)
    except validation.InvalidEmail as err:
        raise click.ClickException(str(err)) from err
    if validation.find_by_email(db, email) is not None:
        raise click.ClickException(f"An account with the email address {email} already exists")
    name = validation.clean_display_name(display_name)
    problem = validation.display_name_problem(db, name, staff=role != "member") or passwords.password_problem(
        password, email=email, display_name=name
    )
    if problem:
        raise click.ClickException(problem)
    user = User(email=email, display_name=name, role=role, password_hash=passwords.hash_password(password), verified_at=utcnow())
    db.add(user)
    try:
        db.commit()
    except IntegrityError as err:  # taken by a registration since the checks above
        db.rollback()
        raise click.ClickException("That email address or display name was taken a moment ago") from err
    click.echo(f"created {role} {name} <{email}> (id {user.id})")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@with_appcontext
def set_role_command(email: str, role: str) -> None:
    """Give the account with EMAIL the ROLE member, moderator or admin."""
    db = get_session()
    try:
        user = validation.find_by_email(db, validation.normalise_email(email))
    except validation.InvalidEmail as err:
        raise click.ClickException(str(err)) from err
    if user is None:
        raise click.ClickException(f"No account has the email address {email}")
    user.role = role
    db.commit()
    click.echo(f"{user.display_name} <{user.email}> is now {role}")


@users_cli.command("purge-unconfirmed")
@click.option(
    "--days",
    default=UNCONFIRMED_DAYS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Remove accounts created more than this many days ago and never confirmed.",
)
@with_appcontext
def purge_unconfirmed_command(days: int) -> None:
    """Remove accounts whose email address was never confirmed (run daily; /privacy promises it)."""
    db = get_session()
    removed, anonymised = purge_unconfirmed(db, utcnow() - timedelta(days=days))
    db.commit()
    click.echo(
        f"removed {removed} unconfirmed accounts older than {days} days"
        + (f"; anonymised {anonymised} that a report refers to" if anonymised else "")
    )
