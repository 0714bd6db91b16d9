"""Issue 14, item 4: every channel of a recording is accounted for, never silently dropped.

The files are real speech from the sample calls, one clip per channel, written as multi-channel
16-bit WAVs. What the model hears differs a little between processors, so the tests assert what
holds everywhere: each channel that carries speech becomes a speaker with words.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from callscope.audio.decode import DecodedAudio
from callscope.cli import main
from callscope.errors import InputError
from callscope.model import AudioSource
from callscope.options import AmazonTranscribeOptions, SpeakerOptions
from callscope.speakers.channels import split_speakers
from callscope.transcription.amazon import AmazonTranscribeService
from tests.audio_factory import load_clip
from tests.conftest import DEMO_CALL, JFK, PYANNOTE_SAMPLE, STEREO_TWO_UTTERANCES

RATE = 16000
CLIP_SECS = 6.0


def _speech_clips() -> list[np.ndarray]:
    """Six different stretches of real speech, CLIP_SECS each."""
    jfk = load_clip(JFK)
    sample = load_clip(PYANNOTE_SAMPLE)
    demo = load_clip(DEMO_CALL)
    stereo = load_clip(STEREO_TWO_UTTERANCES)
    length = int(CLIP_SECS * RATE)
    starts = [(jfk, 0), (sample, 8 * RATE), (sample, 18 * RATE), (demo, 0), (demo, 20 * RATE), (stereo, 0)]
    return [signal[start:start + length] for signal, start in starts]


def _write_wav(path: Path, channels: list[np.ndarray]) -> Path:
    length = min(len(signal) for signal in channels)
    frames = np.stack([signal[:length] for signal in channels], axis=1)
    pcm = (np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return path


def _decoded(channels: list[np.ndarray]) -> DecodedAudio:
    samples = np.stack(channels).astype(np.float32)
    source = AudioSource(path="call.wav", sha256="0" * 64, container="wav", codec="pcm_s16le",
                         sample_rate=RATE, channels=len(channels), duration=samples.shape[1] / RATE)
    return DecodedAudio(source=source, samples=samples)


def test_a_six_channel_call_gives_every_channel_its_speaker(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    _write_wav(calls / "bridge.wav", _speech_clips())
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "channel(s) [2, 3, 4, 5] have no role" in result.output
    document = json.loads((tmp_path / "out" / "bridge.json").read_text())
    heard = {segment["SegmentSpeaker"] for segment in document["SpeechSegments"]}
    assert heard == {f"spk_{channel}" for channel in range(6)}
    roles = {label["Speaker"]: label["DisplayText"] for label in document["ConversationAnalytics"]["SpeakerLabels"]}
    assert roles["spk_0"] == "Customer" and roles["spk_1"] == "Agent"
    assert set(roles) == heard


def test_silent_extra_channels_are_named_in_a_warning_not_dropped_unsaid():
    clips = _speech_clips()
    silence = np.zeros_like(clips[0])
    layout = split_speakers(_decoded([clips[0], clips[1], silence, silence]), SpeakerOptions())
    assert [track.speaker.label for track in layout.tracks] == ["spk_0", "spk_1"]
    assert layout.warnings == [
        "channel 2 is silent and has no role in the channel definitions: not analysed",
        "channel 3 is silent and has no role in the channel definitions: not analysed",
    ]


def test_a_stereo_channel_without_a_definition_is_still_analysed():
    clips = _speech_clips()
    options = SpeakerOptions(channels=SpeakerOptions().channels[1:])  # only channel 1 = AGENT
    layout = split_speakers(_decoded(clips[:2]), options)
    assert [(track.speaker.label, track.speaker.role.value) for track in layout.tracks] == [
        ("spk_0", "UNKNOWN"), ("spk_1", "AGENT")]
    assert any("[0] have no role" in warning for warning in layout.warnings)


def test_the_same_signal_on_every_channel_is_one_speaker():
    clip = _speech_clips()[0]
    layout = split_speakers(_decoded([clip, clip, clip]), SpeakerOptions())
    assert layout.separation == "none" and len(layout.tracks) == 1
    assert layout.warnings == ["all 3 channels carry the same signal: treated as mono (one speaker) so no line "
                               "appears twice"]


def test_amazon_transcribe_refuses_more_than_two_different_channels_in_one_line():
    service = AmazonTranscribeService(AmazonTranscribeOptions(bucket="calls"), SpeakerOptions())
    with pytest.raises(InputError) as raised:
        service.separate_channels(_decoded(_speech_clips()[:3]))
    assert raised.value.kind == "too_many_channels"
    assert str(raised.value).startswith("call.wav: has 3 channels that differ; Amazon Transcribe separates two")
