"""`flask forum purge-withdrawn`: erase withdrawn posts' text once the retention period in /privacy has passed.

Run it daily (docs/deploy.md lists the timers); it changes nothing for posts
withdrawn more recently.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ldnsite.db import get_session
from ldnsite.forum.posting import purge_withdrawn

forum_cli = AppGroup("forum", help="Forum maintenance.")


@forum_cli.command("purge-withdrawn")
def purge_withdrawn_command() -> None:
    """Erase the text of posts their authors withdrew more than FORUM_WITHDRAWN_RETENTION_DAYS ago."""
    days = int(current_app.config["FORUM_WITHDRAWN_RETENTION_DAYS"])
    session = get_session()
    erased = purge_withdrawn(session, days)
    session.commit()
    click.echo(f"erased the text of {erased} withdrawn post{'s' if erased != 1 else ''} (withdrawn over {days} days ago)")
