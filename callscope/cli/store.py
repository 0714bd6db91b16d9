"""The store's commands: `callscope load` and `callscope search` (and the options other store commands share)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callscope.errors import CallscopeError
from callscope.store import moments
from callscope.store.base import Store
from callscope.store.opening import open_store

MAX_SEARCH_LIMIT = 1_000_000  # calls on one page of `callscope search`; --continuation reads on

STORE_HELP = ("SQLite store file, or dynamodb://TABLE[?region=R&endpoint_url=URL&create=1] (default: "
              "$CALLSCOPE_STORE, else callscope.db here).")


def open_store_or_fail(location: str | None) -> Store:
    """The store, or a one-line error naming it."""
    try:
        return open_store(location)
    except CallscopeError as error:
        raise click.ClickException(str(error)) from None


def store_option(function):
    """`--store LOCATION`, shared by every command that reads or writes the store."""
    return click.option("--store", "store_location", default=None, metavar="PATH|dynamodb://TABLE",
                        help=STORE_HELP)(function)


def parse_since(_ctx, param, value: str | None):
    """"24h", "30m", "7d", "2w" (before now) or an ISO date and time."""
    return parse_moment(value)


def parse_moment(value: str | None, before=None):
    """callscope.store.moments.parse_moment, its error as click's."""
    try:
        return moments.parse_moment(value, before)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@store_option
def load(directory: Path, store_location: str | None) -> None:
    """Load every PCA JSON under DIRECTORY into the store (re-loading a call replaces it)."""
    from rich.console import Console
    from rich.markup import escape

    from callscope.cli.console_text import shown
    from callscope.store.loading import load_directory

    console = Console(highlight=False, soft_wrap=True)  # one line per file, however long
    with open_store_or_fail(store_location) as store:
        report = load_directory(store, directory, on_problem=lambda kind, line: console.print(
            f"[red]failed[/red] {shown(line)}" if kind == "failed" else f"[yellow]skipped[/yellow] {shown(line)}"))
        total = store.count()
    console.print(f"{report.loaded} loaded, {len(report.skipped)} skipped, {len(report.failed)} failed "
                  f"({total} calls in {escape(store.location)})")
    if report.failed:
        sys.exit(1)


@click.command()
@store_option
@click.option("--since", callback=parse_since, default=None, help="24h, 7d, ... or an ISO date and time.")
@click.option("--until", callback=parse_since, default=None, help="As --since; calls before it.")
@click.option("--agent", default="", help="Agent name, exactly.")
@click.option("--customer-sentiment-below", type=float, default=None, help="Customer sentiment (-5..5) below X.")
@click.option("--customer-sentiment-above", type=float, default=None, help="Customer sentiment (-5..5) above X.")
@click.option("--sentiment-change", type=click.Choice(["improving", "worsening"]), default=None,
              help="Customer sentiment from the first quarter to the last.")
@click.option("--entity", default="", metavar="TYPE=VALUE|VALUE", help="An entity value, of a type or any.")
@click.option("--category", default="", help="A matched category name.")
@click.option("--language", default="", help="Language code as in the documents (en-US, fr).")
@click.option("--text", default="", help="Words that must all occur in the transcript.")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_SEARCH_LIMIT), default=50, show_default=True,
              help="Calls per page.")
@click.option("--continuation", default=None, help="Token printed after a full page: the next page.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
def search(store_location: str | None, since, until, agent: str, customer_sentiment_below: float | None,
           customer_sentiment_above: float | None, sentiment_change: str | None, entity: str, category: str,
           language: str, text: str, limit: int, continuation: str | None, as_json: bool) -> None:
    """Stored calls matching every filter, newest first."""
    import json

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from callscope.store import SearchQuery

    entity_type, _, entity_value = entity.rpartition("=")
    query = SearchQuery(since=since, until=until, agent=agent, customer_sentiment_below=customer_sentiment_below,
                        customer_sentiment_above=customer_sentiment_above, sentiment_change=sentiment_change,
                        entity_type=entity_type.strip(), entity_value=entity_value.strip(), category=category,
                        language=language, text=text, limit=limit, continuation=continuation)
    with open_store_or_fail(store_location) as store:
        try:
            page = store.search(query)
        except CallscopeError as error:
            raise click.ClickException(str(error)) from None
    if as_json:
        for record in page.records:
            click.echo(json.dumps(record.as_json(), ensure_ascii=False))
        if page.continuation:
            click.echo(json.dumps({"continuation": page.continuation}))
        return
    console = Console(highlight=False)
    table = Table("Time", "GUID", "Agent", "Lang", "Duration", "Customer", "Change", "Categories", "Summary")

    def score(value: float | None) -> str:
        return "" if value is None else f"[{'red' if value < 0 else 'green'}]{value:+.2f}[/]"

    for record in page.records:
        table.add_row(str(record.conversation_time or ""), escape(record.guid), escape(record.agent),
                      escape(record.language), f"{record.duration:.0f}s", score(record.customer_sentiment),
                      score(record.customer_sentiment_change), escape(", ".join(record.categories)),
                      escape(record.summary[:80]))
    console.print(table)
    console.print(f"{len(page.records)} call{'s' if len(page.records) != 1 else ''}"
                  + (f"; next page: --continuation {page.continuation}" if page.continuation else ""))
