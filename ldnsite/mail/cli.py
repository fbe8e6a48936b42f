"""`flask mail ...`: operating the queue.

`flask mail flush` sends everything waiting now, ignoring the backoff schedule
(run it after fixing the SMTP server). `flask mail flush --due` honours the
schedule: that is the one to run from cron every minute or so. Both also
blank messages finished more than MAIL_RETENTION_DAYS ago (`flask mail purge`).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ldnsite.mail.delivery import QUEUE, deliver, purge


@click.group("mail")
def mail_cli() -> None:
    """Outgoing email queue."""


@mail_cli.command("flush")
@click.option("--due", is_flag=True, help="Only messages whose retry time has come (for cron).")
@click.option("--limit", type=int, default=None, help="Send at most this many.")
@with_appcontext
def flush_command(due: bool, limit: int | None) -> None:
    """Deliver waiting messages now. Exit status 1 if any is still waiting afterwards."""
    app = current_app._get_current_object()
    report = deliver(app, due_only=due, limit=limit)
    click.echo(
        f"sent {report.sent}, failed {report.failed} (will retry), refused {report.refused}, "
        f"skipped as opted out {report.suppressed}, held by another process {report.skipped}"
    )
    waiting = _count(QUEUE.c.sent_at.is_(None) & QUEUE.c.cancelled_at.is_(None) & QUEUE.c.failed_at.is_(None))
    click.echo(f"{waiting} message(s) waiting")
    purge(app)
    if report.failed:
        raise SystemExit(1)


@mail_cli.command("purge")
@click.option("--days", type=float, default=None, help="Keep this many days (default MAIL_RETENTION_DAYS, 30).")
@with_appcontext
def purge_command(days: float | None) -> None:
    """Blank addresses and contents of messages sent, cancelled or refused more than DAYS ago."""
    from datetime import timedelta

    count = purge(current_app._get_current_object(), older_than=None if days is None else timedelta(days=days))
    click.echo(f"blanked {count} old message(s)")


@mail_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Counts of waiting, sent, refused and cancelled messages, and the oldest waiting one's last error."""
    c = QUEUE.c
    click.echo(f"waiting: {_count(c.sent_at.is_(None) & c.cancelled_at.is_(None) & c.failed_at.is_(None))}")
    click.echo(f"sent: {_count(c.sent_at.is_not(None))}")
    click.echo(f"refused: {_count(c.failed_at.is_not(None))}")
    click.echo(f"cancelled: {_count(c.cancelled_at.is_not(None))}")
    with current_app.extensions["db_engine"].connect() as conn:
        row = conn.execute(
            select(c.id, c.attempts, c.next_attempt_at, c.last_error)
            .where(c.sent_at.is_(None), c.cancelled_at.is_(None), c.failed_at.is_(None), c.attempts > 0)
            .order_by(c.id)
            .limit(1)
        ).first()
    if row is not None:
        click.echo(
            f"oldest failing: #{row.id}, {row.attempts} attempt(s), next at {row.next_attempt_at:%Y-%m-%d %H:%M} UTC,"
            f" last error: {row.last_error}"
        )


def _count(cond) -> int:
    with current_app.extensions["db_engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(QUEUE).where(cond)).scalar_one()
