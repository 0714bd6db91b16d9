"""`callscope report negative`: the calls whose customer sentiment fell below a threshold, as CSV, with notices.

See docs/REPORTS.md. Exit codes: 0; 1 when the store or the upload failed, or any notice failed (the
CSV is written first and kept); 2 for a bad option or notify target.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from callscope.cli.store import open_store_or_fail, parse_moment, parse_since, store_option
from callscope.errors import CallscopeError


@click.group()
def report() -> None:
    """Scheduled reports over the store (see docs/REPORTS.md)."""


def _parse_expires(_ctx, _param, value: str):
    from callscope.reports.publish import parse_expires

    try:
        return parse_expires(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _parse_targets(_ctx, _param, values: tuple[str, ...]):
    from callscope.notify import BadTarget, parse_target

    try:
        return [parse_target(value) for value in values]
    except BadTarget as error:
        raise click.BadParameter(str(error)) from None


def _make_folder(out: str | None) -> None:
    """A local --out ending in a separator is a folder (`--out reports/`): made now, so that the report goes
    inside it under its usual name rather than into a file named like the folder."""
    from callscope.reports.publish import S3_SCHEME

    if not out or out.startswith(S3_SCHEME) or not out.endswith(("/", os.sep)):
        return
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"{out}: cannot make the folder: {error.strerror or error}") from None


def _since(value: str, until):
    """A duration counts back from --until when given (a scheduled run's window then does not drift with a
    late start: `--until <scheduled time> --since 24h`), else from now."""
    try:
        return parse_moment(value, before=until)
    except click.BadParameter as error:
        error.param_hint = "'--since'"
        raise


@report.command()
@store_option
@click.option("--threshold", type=click.FloatRange(-5, 5), default=-1.0, show_default=True,
              help="Calls whose customer sentiment (-5..5) is strictly below this.")
@click.option("--since", default="24h", show_default=True,
              help="24h, 7d, ... before now (before --until when given), or an ISO date and time.")
@click.option("--until", callback=parse_since, default=None, help="As --since; calls before it.")
@click.option("--agent", default="", help="Only this agent's calls.")
@click.option("--category", default="", help="Only calls where this category matched.")
@click.option("--out", default=None, metavar="FILE|DIR|s3://BUCKET/KEY",
              help="Where the CSV goes (default: negative-calls-<date>.csv here). A folder (one that exists, or a "
                   "path ending in /, made if missing) or an s3:// key ending in / gets that name inside.")
@click.option("--expires", callback=_parse_expires, default="7d", show_default=True,
              help="How long the presigned URL of an s3:// report works (at most 7d).")
@click.option("--link-base", envvar="CALLSCOPE_LINK_BASE", default=None, metavar="URL",
              help="Dashboard URL: each call links to URL/calls/GUID (default: the path of its PCA JSON). "
                   "Also $CALLSCOPE_LINK_BASE.")
@click.option("--notify", "notifiers", multiple=True, callback=_parse_targets, metavar="TARGET",
              help="smtp://[user@]host[:port]?to=a@x,b@y&from=r@x[&starttls=1], sns:arn:aws:sns:..., or an "
                   "http(s):// webhook. Repeatable.")
@click.option("--notify-empty", is_flag=True, help="Also notify when no call is below the threshold.")
@click.option("--notify-calls", type=click.IntRange(min=0), default=20, show_default=True,
              help="Calls listed in a notice (the CSV has them all).")
def negative(store_location: str | None, threshold: float, since, until, agent: str, category: str,
             out: str | None, expires, link_base: str | None, notifiers, notify_empty: bool,
             notify_calls: int) -> None:
    """CSV of the calls whose customer sentiment is below THRESHOLD in the window, worst first; then notices."""
    from callscope.notify import build_notice, notify_all
    from callscope.notify.message import window_text
    from callscope.reports import NegativeCallsCriteria, find_negative_calls, publish, report_csv

    since = _since(since, until)
    criteria = NegativeCallsCriteria(threshold=threshold, since=since, until=until, agent=agent, category=category)
    with open_store_or_fail(store_location) as store:
        try:
            found = find_negative_calls(store, criteria, link_base=link_base)
        except CallscopeError as error:
            raise click.ClickException(str(error)) from None
    _make_folder(out)
    try:
        published = publish(report_csv(found), out, expires)
    except CallscopeError as error:
        raise click.ClickException(str(error)) from None

    window = window_text(since, until)
    if found.count:
        click.echo(f"{found.count} negative call{'s' if found.count != 1 else ''} (customer sentiment below "
                   f"{threshold:g}) {window}: {published.location}")
    else:
        click.echo(f"No call with customer sentiment below {threshold:g} {window}; "
                   f"wrote the header only: {published.location}")
    if published.link != published.location:
        click.echo(f"Link (until {published.expires_at:%Y-%m-%d %H:%M} UTC): {published.link}")

    if not notifiers or (not found.count and not notify_empty):
        if notifiers:
            click.echo("Nobody notified (no negative calls; --notify-empty sends a notice anyway).")
        return
    notice = build_notice(found, published, listed=notify_calls)

    def tell(outcome) -> None:
        if outcome.ok:
            click.echo(f"notified {outcome.target}: {outcome.detail}")
        else:
            click.echo(f"notify failed: {outcome.target}: {outcome.detail}", err=True)

    outcomes = notify_all(notifiers, notice, on_outcome=tell)
    if not all(outcome.ok for outcome in outcomes):
        sys.exit(1)
