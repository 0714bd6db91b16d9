"""faster-whisper backend with word timestamps, VAD and guards against hallucinated text."""

from __future__ import annotations

import ctypes
import re

import numpy as np

from callscope.audio.decode import SAMPLE_RATE
from callscope.audio.levels import span_rms
from callscope.audio.vad import SpeechChunk, speech_chunks
from callscope.errors import ModelError, first_line
from callscope.options import TranscriptionOptions
from callscope.transcription.base import RecognisedSegment, RecognisedWord, TranscriptionResult
from callscope.transcription.models import resolve_model
from callscope.transcription.parallel import share_malloc_arenas
from callscope.transcription.vocabulary import apply_display_forms

# Phrases Whisper is known to invent on silence and music (learned from subtitled video); none of
# them is something a caller or an agent says.
_VIDEO_HALLUCINATIONS = re.compile(
    r"thanks? (you )?for watching|please subscribe|like and subscribe|subtitles by|amara\.org"
    r"|transcribed by|translated by|www\.|\.com/",
    re.IGNORECASE,
)
# A word whose audio, with _SILENT_WORD_MARGIN either side, is quieter than this (dBFS RMS) was not
# spoken: Whisper hallucinated it (in a silent gap or on a silent channel).
_SILENCE_DBFS = -60.0
# Whisper's word times are approximate and often zero-length (start == end): measured on that span
# alone, the RMS was one sample's, and real words ("in", "though", "So" on the pyannote sample, at
# -52 to -240 dBFS on their own sample) were dropped. With 0.2 s either side the same words measure
# -53 to -19 dBFS, while a word placed inside a digital silence still measures nothing (issue 15).
_SILENT_WORD_MARGIN = 0.2
# A vocabulary term written with less probability than this came from the hotwords prompt, not the audio.
_LEAKED_HOTWORD_PROBABILITY = 0.02
# Beam search at temperature 0 only, no fallback to sampling at higher temperatures: the same samples give the
# same words on the same machine (issue 15: a sampling fallback made four runs of one noisy 8 kHz call
# differ by 13 WER points on another machine). On the dev set and the three sample calls here no
# window needed the fallback, so no word changed (bench/bench_asr_vs_plain.py, docs/BENCHMARKS.md).
_TEMPERATURE = 0.0
# faster-whisper's own VAD settings (2 s minimum silence, 400 ms padding). The 300 ms silences used
# before (turn-level segments; words carry their own times, so turns do not need them) lost a whole
# phrase of the clean MIT clip (9.4% WER vs 2.4%) and were no better pooled over the dev set (13.1% vs
# 12.9%; bench/bench_asr_vs_plain.py --ablate, docs/BENCHMARKS.md).
_VAD_PARAMETERS: dict[str, float] = {}


# What CTranslate2 4.x loads to run Whisper on CUDA 12 (the GPU image installs them from NVIDIA's wheels).
CUDA_LIBRARIES = ("libcublas.so.12", "libcudnn_ops.so.9")


def resolve_device(device: str) -> str:
    """"auto": cuda where CTranslate2 sees a GPU and the CUDA libraries it needs load, cpu otherwise (a
    CPU image on a GPU instance sees the GPU through the driver, but has no cuBLAS or cuDNN: CTranslate2
    alone would pick cuda there and fail at the first call). Other values as given."""
    if device != "auto":
        return device
    import ctranslate2

    if ctranslate2.get_cuda_device_count() == 0:
        return "cpu"
    for library in CUDA_LIBRARIES:
        try:
            ctypes.CDLL(library)
        except OSError:
            return "cpu"
    return "cuda"


class FasterWhisperTranscriber:
    """Loads the model once; `transcribe` can then be called for every channel of every call."""

    def __init__(self, options: TranscriptionOptions = TranscriptionOptions(), workers: int | None = None) -> None:
        from faster_whisper import WhisperModel

        self.options = options
        self.name = f"faster-whisper:{options.model}"
        # transcribe() may be called from this many threads at once (a server running several
        # invocations at once asks for more than a call's own side-by-side transcriptions)
        device = resolve_device(options.device)
        self.workers = workers or options.workers_on(device)
        if self.workers > 1:
            share_malloc_arenas()
        model_path = resolve_model(options.model)
        try:
            self.model = WhisperModel(
                model_path, device=device, compute_type=options.compute_type,
                cpu_threads=options.threads, num_workers=self.workers,
            )
        except Exception as error:  # hub, CTranslate2 and file errors all mean "no usable model"
            raise ModelError(f"cannot load Whisper model '{options.model}': {first_line(error)}") from None

    def transcribe(self, samples: np.ndarray) -> TranscriptionResult:
        if self.options.language is None and self.model.model.is_multilingual:
            # No language given: each stretch's language (calls may switch), as well as the call's.
            from callscope.transcription.language_id import transcribe_detecting_languages

            return transcribe_detecting_languages(self, samples)
        return self.recognise(samples, self.options.language)

    def recognise(self, samples: np.ndarray, language: str | None) -> TranscriptionResult:
        """faster-whisper in `language` (None: detected on the first 30 s).

        With a vocabulary, the pass with its hotwords is kept only when it writes one of its terms;
        otherwise a plain pass is: hotwords bias the whole decoding, and on speech without the terms
        they only add errors (measured: docs/BENCHMARKS.md, "Accuracy lab")."""
        vocabulary = self.options.vocabulary
        if vocabulary is None:
            return self._recognise(samples, language, None)
        hinted = self._recognise(samples, language, vocabulary.hotwords())
        if vocabulary.found_in(" ".join(word.text for segment in hinted.segments for word in segment.words)):
            return hinted
        return self._recognise(samples, language, None)

    def _recognise(self, samples: np.ndarray, language: str | None, hotwords: str | None) -> TranscriptionResult:
        options = self.options
        # The VAD runs here, not inside faster-whisper, to see the signal at a set level
        # (callscope.audio.vad); Whisper then gets the chunks' samples as its own VAD filter gives them.
        chunks = speech_chunks(samples, **_VAD_PARAMETERS) if options.vad else None
        segments, info = self.model.transcribe(
            _speech_only(samples, chunks),
            language=language,
            beam_size=options.beam_size,
            temperature=_TEMPERATURE,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=options.condition_on_previous_text,
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            hallucination_silence_threshold=options.hallucination_silence_threshold,
            hotwords=hotwords,
        )
        if chunks:
            from faster_whisper.transcribe import restore_speech_timestamps

            segments = restore_speech_timestamps(segments, [chunk.as_dict() for chunk in chunks], SAMPLE_RATE)
        kept: list[RecognisedSegment] = []
        for segment in segments:
            if _VIDEO_HALLUCINATIONS.search(segment.text):
                continue
            words = tuple(
                RecognisedWord(word.word, float(word.start), float(word.end), float(word.probability))
                for word in segment.words or ()
                if word.word.strip() and not _is_silent(samples, word.start, word.end)
                and not (hotwords and _leaked_hotword(word, options.vocabulary))
            )
            if options.vocabulary:
                words = apply_display_forms(words, options.vocabulary)
            if words:
                kept.append(RecognisedSegment(
                    words, float(segment.no_speech_prob), float(segment.avg_logprob), language or info.language
                ))
        return TranscriptionResult(segments=kept, language=language or info.language)


def _speech_only(samples: np.ndarray, chunks: list[SpeechChunk] | None) -> np.ndarray:
    """The chunks' samples joined, as faster-whisper's own VAD filter feeds Whisper (all of them
    without a VAD)."""
    if chunks is None:
        return samples
    from faster_whisper.vad import collect_chunks

    pieces, _ = collect_chunks(samples, [chunk.as_dict() for chunk in chunks])
    return np.concatenate(pieces)


def _leaked_hotword(word, vocabulary) -> bool:
    """A vocabulary term Whisper copied from its prompt rather than heard: it says so with a probability
    near zero (measured with tiny.en: 0.004-0.006 on the "ComfyUI" it appends to clips that never say it,
    0.04-0.9 where it is said)."""
    return word.probability < _LEAKED_HOTWORD_PROBABILITY and vocabulary.found_in(word.word)


def _is_silent(samples: np.ndarray, start: float, end: float) -> bool:
    rms = span_rms(samples, start, end, _SILENT_WORD_MARGIN)
    return rms == 0.0 or 20 * np.log10(rms) < _SILENCE_DBFS
