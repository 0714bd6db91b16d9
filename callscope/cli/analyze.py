"""`callscope analyze`: calls, chats and transcripts in, PCA-format results out (docs/USAGE.md)."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import click

from callscope.cli.flags import flag_options
from callscope.cli.params import llm_options, parse_duration, read_vocabulary
from callscope.cli.transcribe_flags import amazon_transcribe_flags, transcribe_settings
from callscope.errors import CallscopeError
from callscope.flags import LOCAL_FLAGS, MODEL_FLAGS, TRANSCRIBE_FLAGS, options_from_values
from callscope.inputs.options import ChatOptions
from callscope.inputs.roles import RoleMap
from callscope.model import Role
from callscope.options import (
    DEFAULT_CHANNELS,
    AnalyzeOptions,
    AsrEngine,
    AudioRedaction,
    Backend,
    ChannelDefinition,
    DecodeOptions,
    EnrichmentOptions,
    FilenameMetadataOptions,
    InsightBackend,
    InsightOptions,
    SpeakerOptions,
    choices,
)
from callscope.speakers.roles import RolePhrases

_DEFAULT_NAMES = FilenameMetadataOptions()


def _parse_channels(_ctx, _param, value: str | None) -> tuple[ChannelDefinition, ...]:
    """"0=CUSTOMER,1=AGENT" → channel definitions."""
    if not value:
        return DEFAULT_CHANNELS
    definitions = []
    for item in value.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*=\s*(agent|customer)\s*", item, re.IGNORECASE)
        if not match:
            raise click.BadParameter(f"'{item}' is not CHANNEL=ROLE, e.g. 0=CUSTOMER,1=AGENT")
        definitions.append(ChannelDefinition(int(match[1]), Role(match[2].upper())))
    return tuple(definitions)


@click.command()
# readable=False: an unreadable file is one failed call, reported with the others, not a usage error.
# str, not Path: an s3:// URI must keep its double slash.
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("callscope-results"),
              show_default=True, help="Folder for results (created if missing).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Calls analysed in parallel; CPU threads are shared among them.")
@click.option("--force", is_flag=True, help="Analyse again calls already done with the same settings.")
@flag_options(*MODEL_FLAGS, *LOCAL_FLAGS)
@click.option("--vocabulary", "vocabulary_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help="Custom vocabulary: an Amazon Transcribe table (Phrase, SoundsLike, IPA, DisplayAs) or "
                   "a word list; given to Whisper as hotwords, recognised phrases written as displayed.")
@click.option("--channels", callback=_parse_channels, default=None,
              help="Who is on which channel of stereo calls.  [default: 0=CUSTOMER,1=AGENT]")
@click.option("--role-phrases", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSON file of phrases that tell the agent from the customer on mono calls "
                   "(shape of callscope/speakers/role_phrases.json).")
@click.option("--sentiment", type=click.Choice(choices(Backend)), default="local", show_default=True,
              help="Turn sentiment: the model shipped with callscope, Amazon Comprehend, or none.")
@click.option("--entities", type=click.Choice(choices(Backend)), default="local", show_default=True,
              help="Entities (people, organisations, places, dates, ...): spaCy, Amazon Comprehend, or none.")
@click.option("--entity-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Custom entities: a CSV of Type,Text rows, found on top of the entity backend.")
@click.option("--issues", type=click.Choice((Backend.LOCAL.value, Backend.NONE.value)), default="local",
              show_default=True,
              help="Issues, action items and outcomes from the shipped sentence patterns, or none.")
@click.option("--categories", "category_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help="Category rules (YAML, docs/CATEGORIES.md); default: the contact-centre rules shipped.")
@click.option("--no-categories", is_flag=True, help="Do not match category rules.")
@click.option("--redact", is_flag=True,
              help="Replace PII (names, numbers, cards, addresses, ...) in every output and write <call>.redacted.wav.")
@click.option("--pii", type=click.Choice((Backend.LOCAL.value, Backend.COMPREHEND.value)), default="local",
              show_default=True,
              help="Who finds the PII to redact: the local detector or Amazon Comprehend.")
@click.option("--redaction-token", type=click.Choice(["pii", "type"]), default="pii", show_default=True,
              help="Redacted words read [PII], or their type ([PHONE], [CREDIT_CARD], ...).")
@click.option("--redact-audio", type=click.Choice(choices(AudioRedaction)), default="silence", show_default=True,
              help="In the redacted audio copy, PII is silenced or beeped (none: no audio copy).")
# `--insights` alone (as README.md writes it) means the default backend; `--insights bedrock` picks one.
@click.option("--insights", "insight_backend", type=click.Choice(choices(InsightBackend)),
              default="embedded", show_default=True, is_flag=False, flag_value="embedded",
              help="Summary, call driver, action items, checks: rules with no model, or an LLM "
                   "(docs/INSIGHTS_BACKENDS.md). Alone: embedded.")
@llm_options
@click.option("--insight-prompts", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="A YAML file of insight prompts added to (or replacing) the shipped ones; repeatable.")
@click.option("--chat-roles", default=None, metavar="NAME=ROLE,...",
              help="Chat speaker names and their roles, e.g. 'Bot=AGENT,Jane=AGENT' (Agent/Customer are known).")
@click.option("--max-duration", callback=parse_duration, default="4:00:00", show_default=True,
              help="Refuse calls longer than this (seconds or H:MM:SS).")
@click.option("--guid-pattern", default=_DEFAULT_NAMES.guid_pattern, show_default=True,
              help="Regex over the file name for the call GUID.")
@click.option("--agent-pattern", default=_DEFAULT_NAMES.agent_pattern, show_default=True)
@click.option("--cust-pattern", default=_DEFAULT_NAMES.customer_pattern, show_default=True)
@click.option("--datetime-pattern", default=_DEFAULT_NAMES.datetime_pattern, show_default=True)
@click.option("--datetime-format", default=_DEFAULT_NAMES.datetime_format, show_default=True,
              help="strptime format of the datetime groups joined by spaces.")
@click.option("--location", default=_DEFAULT_NAMES.location, show_default=True,
              help="TZ database name written as ConversationLocation.")
@click.option("--store", "store_location", default=None, metavar="PATH|dynamodb://TABLE",
              help="Also put each call into this store (callscope search, report, serve); default: $CALLSCOPE_STORE "
                   "if set, else no store.")
@flag_options(*TRANSCRIBE_FLAGS)
@amazon_transcribe_flags
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
def analyze(paths: tuple[str, ...], out_dir: Path, jobs: int, force: bool, vocabulary_file: Path | None,
            channels: tuple[ChannelDefinition, ...], role_phrases: Path | None, sentiment: str, entities: str,
            entity_file: Path | None, issues: str, category_file: Path | None, no_categories: bool, redact: bool,
            pii: str, redaction_token: str, redact_audio: str, insight_backend: str, llm_model: str | None,
            llm_url: str | None, llm_region: str | None, insight_prompts: tuple[Path, ...], chat_roles: str | None,
            max_duration: float, guid_pattern: str, agent_pattern: str, cust_pattern: str, datetime_pattern: str,
            datetime_format: str, location: str, store_location: str | None, quiet: bool,
            **flag_values) -> None:
    """Analyse call recordings, chat transcripts ("Agent: ..." text, JSON exports) and Amazon
    Transcribe results (files or folders, searched recursively).

    Writes per call <name>.json (PCA format), .rttm, .srt, .vtt and .txt into --out.
    """
    from callscope.cli.analyze_progress import run_analyze
    from callscope.cli.console_text import printable

    try:
        base = AnalyzeOptions(
            role_phrases=RolePhrases.load(role_phrases) if role_phrases else None,
            chat=ChatOptions(roles=RoleMap.parse(chat_roles)) if chat_roles else ChatOptions(),
            insights=_insight_options(insight_backend, llm_model, llm_url, llm_region, insight_prompts),
            enrichment=replace(
                _enrichment_options(sentiment, entities, entity_file, issues, category_file, no_categories),
                redact=redact, pii=pii, redaction_token="[PII]" if redaction_token == "pii" else "[{type}]",
                redact_audio=redact_audio,
            ),
            decode=DecodeOptions(max_duration_secs=max_duration),
            speakers=SpeakerOptions(channels=channels),
            filename_metadata=FilenameMetadataOptions(
                guid_pattern=guid_pattern, agent_pattern=agent_pattern, customer_pattern=cust_pattern,
                datetime_pattern=datetime_pattern, datetime_format=datetime_format, location=location,
            ),
            amazon_transcribe=transcribe_settings(flag_values),
        )
        options = options_from_values(flag_values, MODEL_FLAGS + LOCAL_FLAGS + TRANSCRIBE_FLAGS, base)
        if options.asr == AsrEngine.TRANSCRIBE and vocabulary_file is not None:
            raise ValueError("--vocabulary is a word list for Whisper; with --asr transcribe name a custom "
                             "vocabulary of your account with --transcribe-vocabulary")
        options = _with_vocabulary(options, vocabulary_file)
    except ValueError as error:
        raise click.BadParameter(str(error).replace("invalid literal for int() with base 10", "not a number")) from None
    inputs, options = _fetch_s3_inputs(paths, out_dir, options)
    store = _analysis_store(store_location)
    try:
        failed = run_analyze(inputs, out_dir, options, jobs=jobs, force=force, quiet=quiet, store=store)
    except CallscopeError as error:  # the run could not start: nothing to analyse, two calls for one output, ...
        click.echo(f"callscope: error: {printable(str(error))}", err=True)
        sys.exit(2)
    finally:
        if store is not None:
            store.close()
    sys.exit(1 if failed else 0)


def _fetch_s3_inputs(paths: tuple[str, ...], out_dir: Path, options):
    """s3:// inputs are copied under <out>/.callscope/s3/ (once); Amazon Transcribe then reads the
    original objects. Any other input is a local path."""
    from callscope.aws.s3_inputs import is_s3_uri

    uris = [path for path in paths if is_s3_uri(path)]
    local = [Path(path) for path in paths if not is_s3_uri(path)]
    if not uris:
        return local, options
    from callscope.analysis.batch import STATE_DIR
    from callscope.aws.clients import s3_client
    from callscope.aws.s3_inputs import fetch_recordings

    click.echo(f"fetching the recordings under {', '.join(uris)}", err=True)
    try:
        fetched = fetch_recordings(uris, out_dir / STATE_DIR / "s3", s3_client(options.amazon_transcribe.region))
    except CallscopeError as error:
        click.echo(f"callscope: error: {error}", err=True)
        sys.exit(2)
    chosen = options.amazon_transcribe
    media_uris = tuple(sorted({**dict(chosen.media_uris), **fetched.media_uris}.items()))
    return local + fetched.paths, replace(options, amazon_transcribe=replace(chosen, media_uris=media_uris))


def _analysis_store(location: str | None):
    """The store analyze fills: --store, else $CALLSCOPE_STORE when set, else none. Opened before any
    work: one that cannot open (not a database, unreachable) means the run cannot start, exit 2."""
    import os

    from callscope.cli.console_text import printable
    from callscope.store.opening import STORE_ENV, open_store

    location = location or os.environ.get(STORE_ENV)
    if not location:
        return None
    try:
        return open_store(location)
    except CallscopeError as error:
        click.echo(f"callscope: error: {printable(str(error))}", err=True)
        sys.exit(2)


def _with_vocabulary(options, path: Path | None):
    if path is None:
        return options
    return replace(options, transcription=replace(options.transcription, vocabulary=read_vocabulary(path)))


def _insight_options(backend: str, model: str | None, url: str | None, region: str | None,
                     prompt_files: tuple[Path, ...]) -> InsightOptions:
    prompts = None
    if prompt_files:  # loaded now: a bad file stops the run before any call (ValueError, one line)
        from callscope.insights.prompts import PromptSet

        prompts = PromptSet.load(prompt_files)
    return InsightOptions(backend=backend, model=model, url=url, region=region, prompts=prompts)


def _enrichment_options(sentiment: str, entities: str, entity_file: Path | None, issues: str,
                        category_file: Path | None, no_categories: bool) -> EnrichmentOptions:
    """Loads the user's files now, so a bad one stops the run before any call (ValueError, one line)."""
    entity_map = category_rules = None
    if entity_file:
        from callscope.enrichment.custom_entities import EntityMap

        entity_map = EntityMap.from_csv(entity_file)
    if category_file:
        from callscope.enrichment.categories import CategoryRules

        category_rules = CategoryRules.load(category_file)
    return EnrichmentOptions(sentiment=sentiment, entities=entities, issues=issues,
                             categories="none" if no_categories else "local",
                             entity_map=entity_map, category_rules=category_rules)
