"""`flask index ...`: operate this node's search index."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ldnsite.search.indexer import IndexBusy


def _indexer():
    return current_app.extensions["search_indexer"]


index_cli = AppGroup("index", help="Search commands, for the configured SEARCH_BACKEND (whoosh or postgres).")


@index_cli.command("rebuild")
def rebuild_command() -> None:
    """Build a new index beside the live one and swap it in; searches keep working meanwhile."""
    report = _indexer().rebuild()
    click.echo(f"rebuilt: {report['documents']} documents in {report['seconds']:.1f} s ({report['generation']})")


@index_cli.command("sync")
def sync_command() -> None:
    """Apply outbox rows this index has not applied yet (and pages, if site/ changed)."""
    indexer = _indexer()
    try:
        pages = not indexer.status().get("pages_current", True)
        applied = indexer.sync(pages=pages)
    except IndexBusy as exc:
        raise click.ClickException(f"{exc}; the rows stay in the outbox, run `index sync` again") from exc
    pruned = indexer.prune_outbox()
    click.echo(f"applied {applied} outbox rows" + ("; pages reindexed" if pages else "") + f"; pruned {pruned} old rows")


@index_cli.command("ensure")
def ensure_command() -> None:
    """Build the index if missing or stale; reindex pages if site/ changed; then sync."""
    click.echo(_indexer().ensure())


@index_cli.command("status")
def status_command() -> None:
    """Where the index is, whether it is whole, how many documents, and how far it is behind the outbox.

    Exit status 1 when the index is missing, cannot be read, or holds a different number of
    documents than the database with nothing waiting in the outbox.
    """
    status = _indexer().status()
    for key, value in status.items():
        click.echo(f"{key}: {value}")
    if status.get("health", "ok") != "ok":
        raise click.ClickException("the index is damaged or incomplete: run `flask --app app index ensure`")
