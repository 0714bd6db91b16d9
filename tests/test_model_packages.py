"""Model packages (callscope.models.package) and the steps' model channel: what the model-build pipeline
packages, registers and evaluates is one archive, and a step given it runs exactly its models."""

from __future__ import annotations

import io
import shutil
import tarfile

import pytest

from callscope.analysis.engines import load_diarizer, load_transcriber
from callscope.audio.decode import decode
from callscope.errors import ModelError
from callscope.models import model_file
from callscope.models.package import ARCHIVE, EMBEDDED_DIARIZER, WHISPER, ModelManifest, unpack
from callscope.options import AnalyzeOptions, DiarizerName
from callscope.sagemaker_steps import package_models
from callscope.sagemaker_steps.contract import ROOT_VARIABLE
from callscope.sagemaker_steps.model_channel import with_channel_models
from callscope.serving.diarization import load as load_diarization_server
from callscope.speakers.embedding import ENCODER_FILE
from callscope.speakers.segmentation import SEGMENTATION_FILE
from callscope.transcription.models import bundled_model_path
from tests.conftest import JFK, PYANNOTE_SAMPLE

PROCESSING = ("opt", "ml", "processing")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """The package step run as its processing job runs it: its two archives."""
    root = tmp_path_factory.mktemp("package")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ROOT_VARIABLE, str(root))
        package_models.main([])
    output = root.joinpath(*PROCESSING, "output")
    return {"transcription": output / "transcription" / ARCHIVE, "diarization": output / "diarization" / ARCHIVE}


def _channel(monkeypatch, tmp_path, archive):
    """A step's processing folders with `archive` in its model channel."""
    channel = tmp_path.joinpath(*PROCESSING, "input", "model")
    channel.mkdir(parents=True)
    shutil.copy(archive, channel / ARCHIVE)
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path))


def test_the_package_step_packs_the_installed_models_with_their_checksums(packaged, tmp_path):
    whisper = unpack(packaged["transcription"], tmp_path / "whisper")
    assert (whisper.kind, whisper.name) == (WHISPER, "tiny.en")
    assert set(whisper.files) == {path.name for path in bundled_model_path().iterdir() if path.is_file()}
    diarizer = unpack(packaged["diarization"], tmp_path / "diarizer")
    assert (diarizer.kind, set(diarizer.files)) == (EMBEDDED_DIARIZER, {SEGMENTATION_FILE, ENCODER_FILE})
    assert (tmp_path / "diarizer" / SEGMENTATION_FILE).read_bytes() == model_file(SEGMENTATION_FILE).read_bytes()


def test_a_diarize_step_given_a_package_diarizes_with_its_models(packaged, monkeypatch, tmp_path):
    _channel(monkeypatch, tmp_path, packaged["diarization"])
    options = with_channel_models(AnalyzeOptions(diarizer=DiarizerName.NONE))  # the package decides
    assert options.diarizer == DiarizerName.EMBEDDED
    assert ModelManifest.read(tmp_path.joinpath(*PROCESSING, "models", "model")).kind == EMBEDDED_DIARIZER
    assert options.diarizer_models.startswith(str(tmp_path))
    segments = load_diarizer(options).diarize(decode(PYANNOTE_SAMPLE).samples[0])
    assert len({segment.speaker for segment in segments}) == 2  # the sample's two speakers
    (tmp_path.joinpath(*PROCESSING, "models", "model") / ENCODER_FILE).unlink()
    with pytest.raises(ModelError, match=f"no {ENCODER_FILE} in the model package"):
        load_diarizer(options)  # its own files, never the installed ones


def test_a_transcribe_step_given_a_package_transcribes_with_its_model(packaged, monkeypatch, tmp_path):
    _channel(monkeypatch, tmp_path, packaged["transcription"])
    options = with_channel_models(AnalyzeOptions())
    assert options.transcription.model == str(tmp_path.joinpath(*PROCESSING, "models", "model"))
    result = load_transcriber(options).transcribe(decode(JFK).samples[0])
    assert sum(len(segment.words) for segment in result.segments) > 10  # speech found


def test_a_package_that_does_not_match_its_manifest_is_refused_in_one_line(packaged, tmp_path):
    with tarfile.open(packaged["diarization"]) as archive:
        archive.extractall(tmp_path / "content", filter="data")
    (tmp_path / "content" / SEGMENTATION_FILE).write_bytes(b"not the model")
    with tarfile.open(tmp_path / ARCHIVE, "w:gz") as archive:
        for path in (tmp_path / "content").iterdir():
            archive.add(path, arcname=path.name)
    with pytest.raises(ModelError, match=f"{SEGMENTATION_FILE} is missing or differs") as refused:
        unpack(tmp_path / ARCHIVE, tmp_path / "unpacked")
    assert "\n" not in str(refused.value)


def test_nothing_to_package_for_no_diarizer_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        package_models.main(["--diarizer", "none"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "callscope: error: --diarizer none: there is no diarization model to package and register")


def test_the_diarization_server_runs_a_package_it_is_given(packaged, tmp_path):
    unpack(packaged["diarization"], tmp_path / "model")
    assert load_diarization_server(tmp_path / "model").options.diarizer_models == str(tmp_path / "model")


@pytest.mark.parametrize("has_data_filter", [True, False])
def test_unpacking_extracts_plain_files_only_with_or_without_pythons_data_filter(
        packaged, tmp_path, monkeypatch, has_data_filter):
    """Python before 3.11.4 (Debian 12's 3.11.2, which the images built here run) has no "data" filter:
    the package's own check stands in for it."""
    if not has_data_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    manifest = unpack(packaged["diarization"], tmp_path / "good")
    assert manifest.kind == EMBEDDED_DIARIZER and (tmp_path / "good" / SEGMENTATION_FILE).is_file()

    for name, kind in (("../outside.onnx", tarfile.REGTYPE), ("link.onnx", tarfile.SYMTYPE)):
        evil = tmp_path / f"evil-{kind.decode()}.tar.gz"
        with tarfile.open(evil, "w:gz") as archive:
            member = tarfile.TarInfo(name)
            member.type = kind
            member.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            archive.addfile(member, None if kind == tarfile.SYMTYPE else io.BytesIO(b""))
        with pytest.raises(ModelError, match="not a readable model package"):
            unpack(evil, tmp_path / f"evil-{kind.decode()}")
        assert not (tmp_path / "outside.onnx").exists()
