"""Analyse many calls: find them, skip those already done, run N at a time, never lose work.

Each call is isolated: a bad file becomes a failed `CallResult`, never an exception that stops the
batch. A call counts as done only once all its outputs are written and its completion record is
in `<out>/.callscope/done/`; a killed run therefore redoes only the calls it had not finished.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from multiprocessing import get_context
from multiprocessing.queues import Queue
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING

from callscope.analysis.call import analyze
from callscope.analysis.engines import Engines, load_engines, load_transcribe_service
from callscope.analysis.stages import load_audio
from callscope.audio.decode import AUDIO_EXTENSIONS, check_readable, file_sha256
from callscope.aws.errors import AwsServiceError
from callscope.errors import CallError, CallFailure, CallscopeError, ModelError
from callscope.input_files import files_under
from callscope.inputs.detect import is_transcript_candidate
from callscope.inputs.load import check_transcript_readable, is_transcript_path
from callscope.inputs.roles import RoleMap
from callscope.options import AnalyzeOptions, AsrEngine
from callscope.output.writers import output_paths, redacted_audio_request, write_atomic, write_outputs
from callscope.transcription.amazon import stops_starting

if TYPE_CHECKING:
    from callscope.transcription.amazon import AmazonTranscribeService

STATE_DIR = ".callscope"
FAILURES_FILE = "failures.jsonl"


@dataclass(frozen=True)
class CallJob:
    source: Path
    stem: Path  # output path without suffix: <out>/<relative name>


@dataclass
class CallResult:
    source: str
    status: str  # "done", "skipped" or "failed"
    duration: float = 0.0
    speakers: int = 0
    turns: int = 0
    words: int = 0
    elapsed: float = 0.0
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    error_kind: str = ""


class OutputClash(CallscopeError):
    """Two inputs would write the same output files: the run is refused before any call."""


def discover(inputs: list[Path], out_dir: Path, roles: RoleMap | None = None,
             warn: Callable[[str], None] | None = None) -> list[CallJob]:
    """Files given by name are taken as they are (a wrong type fails with a message); folders
    are searched recursively for audio files and for chats and transcripts that read as such
    (callscope.inputs.detect). Outputs mirror the inputs' paths below their common folder, so two
    inputs never share an output: one folder's calls are named from it, one file by its name.
    What a folder walk cannot read goes to `warn`, one line each. Raises OutputClash where two
    outputs would still be one file."""
    roles = roles or RoleMap()  # which chat speaker names are agent or customer
    warn = warn or (lambda line: None)
    # Copies of s3:// inputs (under <out>/.callscope/s3) are mirrored among themselves, local inputs among
    # theirs: a common folder of both would put results inside <out>/.callscope.
    s3_copies = os.path.abspath(out_dir / STATE_DIR / "s3")
    fetched = {entry: _is_under(entry, s3_copies) for entry in inputs}
    bases = {kind: _common_folder([entry for entry in inputs if fetched[entry] == kind]) for kind in (False, True)}
    found: dict[str, tuple[Path, Path]] = {}  # absolute source → (source, output stem relative to out_dir)
    for entry in inputs:
        base = bases[fetched[entry]]
        if entry.is_dir():
            sources = [path for path in sorted(files_under(entry, warn, skip=frozenset({STATE_DIR})))
                       if path.suffix.lower() in AUDIO_EXTENSIONS or is_transcript_candidate(path, roles)]
        else:
            sources = [entry]
        for source in sources:
            found.setdefault(os.path.abspath(source), (source, _relative_stem(source, base)))
    unique = list(found.values())
    # call.wav and call.mp3 side by side would write the same call.json: keep the extension then;
    # also where an output would overwrite its own input (chat.json analysed into its own folder).
    clashes = Counter(stem for _, stem in unique)
    jobs = [
        CallJob(source, out_dir / (stem.with_name(source.name)
                                   if clashes[stem] > 1 or _overwrites(source, out_dir / stem) else stem))
        for source, stem in unique
    ]
    _refuse_shared_outputs(jobs)
    return jobs


def _common_folder(inputs: list[Path]) -> str:
    """The deepest folder holding every input (a folder input counts as itself)."""
    folders = [os.path.abspath(path) if path.is_dir() else os.path.dirname(os.path.abspath(path)) for path in inputs]
    return os.path.commonpath(folders) if folders else os.getcwd()


def _is_under(path: Path, folder: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), folder]) == folder


def _relative_stem(source: Path, base: str) -> Path:
    return Path(os.path.relpath(os.path.abspath(source), base)).with_suffix("")


def _refuse_shared_outputs(jobs: list[CallJob]) -> None:
    """Names like x.wav, x.flac and x.wav.flac side by side still map two calls to x.wav.json: the
    second result would overwrite the first, so the run does not start."""
    first: dict[Path, CallJob] = {}
    for job in jobs:
        other = first.setdefault(job.stem, job)
        if other is not job:
            raise OutputClash(f"{other.source} and {job.source} would both be written as {job.stem}.json; "
                              "rename one, or analyse them into separate --out folders")


def _overwrites(source: Path, stem: Path) -> bool:
    if not is_transcript_path(source):
        return False  # no output suffix is an audio extension
    target = source.resolve()
    return any(path.resolve() == target for path in output_paths(stem))


class CompletionRecords:
    """`<out>/.callscope/done/<content hash>-<name hash>.json`, written after a call's outputs."""

    def __init__(self, out_dir: Path, fingerprint: str, redacted_audio: bool = False) -> None:
        self.directory = out_dir / STATE_DIR / "done"
        self.fingerprint = fingerprint
        self.redacted_audio = redacted_audio  # a call is done only once its redacted audio is there too

    def _path(self, job: CallJob, sha256: str) -> Path:
        name_hash = hashlib.sha256(str(job.stem).encode()).hexdigest()[:12]
        return self.directory / f"{sha256}-{name_hash}.json"

    def finished(self, job: CallJob, sha256: str) -> CallResult | None:
        path = self._path(job, sha256)
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        redacted_audio = self.redacted_audio and not is_transcript_path(job.source)  # chats have no audio to redact
        if record.get("output", str(job.stem)) != str(job.stem):
            return None  # another call's record (older records do not say: their key is the name)
        if (record.get("settings") != self.fingerprint
                or not all(p.exists() for p in output_paths(job.stem, redacted_audio))):
            return None
        result = CallResult(**record["result"])
        result.status, result.elapsed, result.source = "skipped", 0.0, str(job.source)
        return result

    def record(self, job: CallJob, sha256: str, result: CallResult) -> None:
        record = {
            "settings": self.fingerprint,
            "output": str(job.stem),  # the files this record vouches for: <output>.json, .rttm, ...
            "sha256": sha256,
            "finished": datetime.now(timezone.utc).isoformat(),
            "result": asdict(result),
        }
        write_atomic(self._path(job, sha256), json.dumps(record, indent=2) + "\n")


def process_call(
    job: CallJob,
    engines: Engines,
    options: AnalyzeOptions,
    records: CompletionRecords,
    force: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> CallResult:
    """Analyse one call and write its outputs. Never raises for a bad file; ModelError and
    KeyboardInterrupt do propagate because they concern the whole batch."""
    started = time.perf_counter()
    transcript = is_transcript_path(job.source)  # a chat or a Transcribe document: no audio stages
    try:
        (check_transcript_readable if transcript else check_readable)(job.source)
        sha256 = file_sha256(job.source)
        if not force:
            previous = records.finished(job, sha256)
            if previous is not None:
                return previous
        conversation = analyze(job.source, engines, options, sha256=sha256, on_stage=on_stage)
        audio_copy = None if transcript else redacted_audio_request(job.source, options)
        written = write_outputs(conversation, job.stem, audio_copy)
        result = CallResult(
            source=str(job.source),
            status="done",
            duration=round(conversation.source.duration, 2),
            speakers=len({turn.speaker for turn in conversation.turns}),
            turns=len(conversation.turns),
            words=len(conversation.words),
            elapsed=round(time.perf_counter() - started, 2),
            outputs=[str(path) for path in written],
            warnings=conversation.warnings,
        )
        records.record(job, sha256, result)
        return result
    except (ModelError, KeyboardInterrupt):  # the whole batch's: no call can succeed
        raise
    except Exception as error:  # this call's file, job or request, or a bug: reported, the batch goes on
        failure = CallFailure.of(error)
        return _failed(job, failure.problem, failure.kind, started)


def start_service_jobs(jobs: list[CallJob], service: AmazonTranscribeService, options: AnalyzeOptions,
                       records: CompletionRecords, force: bool, on_call: Callable[[CallJob], None]) -> list[str]:
    """Upload every call not done yet and start its Amazon Transcribe job, without waiting: the jobs
    run side by side in the service while the calls are then analysed one by one. A call that cannot
    be started here is left to its turn, which reports it; a quota reached stops the starting (the
    rest start in turn). Returns warnings for the run, one line each."""
    for job in jobs:
        if is_transcript_path(job.source):
            continue  # a chat or a transcript: nothing to transcribe
        on_call(job)
        try:
            check_readable(job.source)
            sha256 = file_sha256(job.source)
            if not force and records.finished(job, sha256) is not None:
                continue
            service.start(job.source, load_audio(job.source, options, sha256))
        except AwsServiceError as error:
            if stops_starting(error):
                return [f"Amazon Transcribe: {error.problem}; the remaining jobs start as their calls come up"]
        except (CallError, OSError):
            continue  # reported when the call's turn comes
    return []


def completion_records(out_dir: Path, options: AnalyzeOptions) -> CompletionRecords:
    return CompletionRecords(out_dir, options.fingerprint(), redacted_audio_request(Path(), options) is not None)


def _failed(job: CallJob, problem: str, kind: str, started: float) -> CallResult:
    return CallResult(
        source=str(job.source),
        status="failed",
        error=problem,
        error_kind=kind,
        elapsed=round(time.perf_counter() - started, 2),
    )


def write_failures(out_dir: Path, results: list[CallResult]) -> Path | None:
    """`failures.jsonl` lists this run's failures, one JSON object a line; it is removed when a
    run has none, so it never reports failures that a later run fixed."""
    path = out_dir / FAILURES_FILE
    failures = [result for result in results if result.status == "failed"]
    if not failures:
        path.unlink(missing_ok=True)
        return None
    lines = [
        json.dumps({"file": result.source, "error": result.error, "kind": result.error_kind}) + "\n"
        for result in failures
    ]
    write_atomic(path, "".join(lines))
    return path


def run_serial(
    jobs: list[CallJob],
    engines: Engines,
    options: AnalyzeOptions,
    records: CompletionRecords,
    force: bool,
    on_stage: Callable[[CallJob, str], None] | None = None,
) -> Iterator[CallResult]:
    for job in jobs:
        stage_hook = (lambda stage, job=job: on_stage(job, stage)) if on_stage else None
        yield process_call(job, engines, options, records, force, stage_hook)


StageListener = Callable[["int | None", CallJob, str], None]


def analyze_many(
    calls: list[CallJob], options: AnalyzeOptions, out_dir: Path, *, jobs: int = 1, force: bool = False,
    on_stage: StageListener | None = None, on_status: Callable[[str], None] | None = None,
    warnings: list[str] | None = None,
) -> Iterator[CallResult]:
    """The batch, with no user interface: each call's result as it is done (in the order they finish
    with `jobs` > 1). `on_status(text)` hears what the run does before its calls (loading the models,
    starting workers); `on_stage(worker, call, stage)` each call's stages (worker None in this
    process); warnings about the run as a whole are added to `warnings`. ModelError (the models
    cannot load) ends it; closing it stops its workers at once."""
    status = on_status or (lambda text: None)
    heard = on_stage or (lambda worker, call, stage: None)
    records = completion_records(out_dir, options)

    def start_jobs(service: AmazonTranscribeService) -> None:
        service.check_bucket()  # an unreachable bucket stops the run here, in one line
        started = start_service_jobs(calls, service, options, records, force,
                                     lambda call: heard(None, call, "starting its Amazon Transcribe job"))
        if warnings is not None:
            warnings.extend(started)

    if jobs == 1:
        status(f"loading models ({_recogniser(options)})")
        engines = load_engines(options)
        if engines.service is not None:
            start_jobs(engines.service)
        stream = run_serial(calls, engines, options, records, force, lambda call, stage: heard(None, call, stage))
    else:
        if options.asr == AsrEngine.TRANSCRIBE:
            start_jobs(load_transcribe_service(options))
        status(f"starting {jobs} workers")
        stream = run_parallel(calls, options, out_dir, jobs, force, heard)
    with closing(stream):  # however the caller's loop ends, the workers end with it, not after their calls
        yield from stream


def _recogniser(options: AnalyzeOptions) -> str:
    return "Amazon Transcribe" if options.asr == AsrEngine.TRANSCRIBE else options.transcription.model


# ---- parallel: one transcriber per worker process, loaded once -------------------------------

_worker_engines: Engines | None = None
_worker_load_error: ModelError | None = None
_worker_stages: Queue | None = None  # (worker pid, job number, stage) to the parent's progress display

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_init(options: AnalyzeOptions, parent: int, stages: Queue | None = None) -> None:
    global _worker_engines, _worker_load_error, _worker_stages
    _die_with_parent(parent)
    _worker_stages = stages
    if stages is not None:
        stages.cancel_join_thread()  # progress is disposable: never hold up the worker's exit for it
    try:
        _worker_engines = load_engines(options)
    except ModelError as error:
        _worker_load_error = error  # raised with the first call, so the parent stops cleanly


def _die_with_parent(parent: int) -> None:
    """A worker whose parent is gone, however it died (kill -9 included), has nobody to hand its results
    to: it exits too, instead of holding its models' memory and finishing calls for nobody. Its exit
    also closes the last copies of the resource tracker's pipe, so the tracker goes as well."""
    if sys.platform.startswith("linux"):
        try:  # the kernel signals the worker the moment its parent dies
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the watch thread alone
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the worker could ask to follow it
    threading.Thread(target=_watch_parent, args=(parent,), name="callscope-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Where no kernel signal follows the parent's death: look every second."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_process(number: int, job: CallJob, options: AnalyzeOptions, out_dir: Path, force: bool) -> CallResult:
    if _worker_engines is None:
        raise _worker_load_error or ModelError("the models were not loaded")
    on_stage = None
    if _worker_stages is not None:
        stages, pid = _worker_stages, os.getpid()

        def on_stage(stage: str) -> None:
            stages.put((pid, number, stage))
    return process_call(job, _worker_engines, options, completion_records(out_dir, options), force, on_stage)


def run_parallel(
    jobs: list[CallJob], options: AnalyzeOptions, out_dir: Path, workers: int, force: bool,
    on_stage: Callable[[int, CallJob, str], None] | None = None,
) -> Iterator[CallResult]:
    """Run calls in `workers` processes; CPU threads are shared out so the machine is not
    oversubscribed. `on_stage(worker, call, stage)` hears each worker's progress, as run_serial's
    hook does. However the run ends (an interrupt, closing this generator), no worker outlives it."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    if not options.transcription.cpu_threads:
        options = replace(options, transcription=replace(options.transcription, cpu_threads=threads))
    # spawn, not fork: CTranslate2 and ONNX Runtime thread pools do not survive a fork.
    context = get_context("spawn")
    stages = context.Queue() if on_stage else None
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                               initargs=(options, os.getpid(), stages))
    finished = False
    try:
        futures = {pool.submit(_worker_process, number, job, options, out_dir, force): job
                   for number, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=_STAGE_POLL_SECS, return_when=FIRST_COMPLETED)
            if stages is not None and on_stage is not None:
                _pass_on_stages(stages, jobs, on_stage)
            for future in done:
                yield _result(future, futures[future])
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop_workers(pool)
        if stages is not None:
            stages.close()


_STAGE_POLL_SECS = 0.2


def _result(future: Future, job: CallJob) -> CallResult:
    try:
        return future.result()
    except BrokenProcessPool:
        return _failed(job, "the analysis process crashed (out of memory?)", "crashed", time.perf_counter())


def _pass_on_stages(stages: Queue, jobs: list[CallJob], on_stage: Callable[[int, CallJob, str], None]) -> None:
    while True:
        try:
            worker, number, stage = stages.get_nowait()
        except Empty:
            return
        on_stage(worker, jobs[number], stage)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now, mid-call: an interrupted run must not wait for calls nobody will collect.
    A worker killed mid-write leaves only a `.part` file, which remove_stale_partial_files clears."""
    # ProcessPoolExecutor has no public way to reach its processes before Python 3.14.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with suppress(OSError, ValueError):
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
