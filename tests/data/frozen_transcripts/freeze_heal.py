"""Write self-heal-hypotheses.json: what tiny.en (`eval asr`'s defaults) wrote for the accuracy tests'
labelled recordings (tests/test_accuracy.py make_labelled), plain, with the vocabulary self-heal
learns from those words, and with "ComfyUI" alone. See README.md.

    .venv/bin/python tests/data/frozen_transcripts/freeze_heal.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for tests.test_accuracy

from callscope.accuracy.evaluate import evaluate  # noqa: E402
from callscope.accuracy.lab import Lab  # noqa: E402
from callscope.accuracy.references import find_labelled  # noqa: E402
from callscope.accuracy.self_heal import learn_vocabulary  # noqa: E402
from callscope.accuracy.whisper_system import WhisperAsr, whisper_asr  # noqa: E402
from callscope.audio.decode import file_sha256  # noqa: E402
from callscope.transcription.vocabulary import vocabulary_of  # noqa: E402
from tests.test_accuracy import HELD_OUT, make_labelled  # noqa: E402


def transcripts(system: WhisperAsr, folder: Path) -> dict[str, list[list]]:
    found = find_labelled(folder)
    return {recording.name: [[s.speaker, s.start, s.end, s.text] for s in
                             system.transcribe(recording.audio, file_sha256(recording.audio), recording.has_speakers)]
            for recording in found.recordings}


def render(document: dict[str, dict[str, list[list]]]) -> str:
    """JSON with one segment a line."""
    systems = []
    for vocabulary, recordings in document.items():
        files = [f'  {json.dumps(name)}: [\n'
                 + ",\n".join(f"   {json.dumps(segment)}" for segment in segments) + "\n  ]"
                 for name, segments in recordings.items()]
        systems.append(f" {json.dumps(vocabulary)}: {{\n" + ",\n".join(files) + "\n }")
    return "{\n" + ",\n".join(systems) + "\n}\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "labelled"
        folder.mkdir()
        make_labelled(folder)
        base = whisper_asr(model="tiny.en")
        with Lab(Path(scratch) / "lab.db") as lab:
            recordings = find_labelled(folder).recordings
            report = evaluate(lab, base, recordings)
            train = {report.key_of[r.name] for r in recordings if not r.name.startswith(HELD_OUT)}
            learnt = learn_vocabulary(lab, report.config_id, train)
        systems = {"": base, ", ".join(learnt): base.with_vocabulary(vocabulary_of(learnt, "learnt.txt")),
                   "ComfyUI": base.with_vocabulary(vocabulary_of(["ComfyUI"], "comfyui.txt"))}
        document = {vocabulary: transcripts(system, folder) for vocabulary, system in systems.items()}
    assert json.loads(render(document)) == document
    (HERE / "self-heal-hypotheses.json").write_text(render(document), encoding="utf-8")
    print("vocabularies:", list(document))


if __name__ == "__main__":
    main()
