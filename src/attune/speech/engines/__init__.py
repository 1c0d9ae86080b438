"""Speech engines, one file each, all behind `base.Synthesizer`.

pyttsx3.py (+ pyttsx3_worker.py, espeak.py)   the default: espeak-ng, SAPI5 or the macOS voices
piper.py (+ piper_worker.py, piper_voices.py)  Piper's neural voices on onnxruntime (`attune[piper]`)
hibari.py, pico.py (+ hibari_worker.py, pico_worker.py)  voices inside pip packages (`attune[voices]`), on packaged.py (+ packaged_worker.py)
pace.py (+ pace_table.py, paces.json)          `--rate` as the same spoken pace in every engine; the packaged voices' paces, shipped measured
piper_download.py                              `attune voices add`: a Piper voice from its catalogue
base.py                                        the `Synthesizer` protocol and `VoiceSettings`
protocol.py                                    the workers' side of the line protocol
recording.py                                  a practitioner's own take, aligned and cut (`attune[record]`)

`create_synthesizer(name)` makes one; `shared_synthesizer(name)` keeps one per process, so that a
batch worker loads a voice model once and reuses it for every track; `engine_identity(name, voice)`
names everything that decides an engine's sound, for fingerprints. Light to import: no engine here.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

from ...errors import AttuneError, SettingsError
from ...settings import ENGINES, RECORDING_ENGINE
from .base import Synthesizer


def _check(engine: str) -> None:
    if engine not in ENGINES and engine != RECORDING_ENGINE:
        raise SettingsError(f"unknown speech engine {engine!r}", f"use one of: {', '.join(ENGINES)}")


def create_synthesizer(engine: str, *, cache_dir: Path | None = None) -> Synthesizer:
    """A new synthesiser for `engine` (its worker processes start on first use).

    `cache_dir` is the speech cache, where Piper remembers each voice's measured pace."""
    _check(engine)
    if engine == RECORDING_ENGINE:
        from .recording import RecordingSynthesizer

        return RecordingSynthesizer(cache_dir)
    if engine == "piper":
        from .piper import PiperSynthesizer

        return PiperSynthesizer(cache_dir)
    packaged = _packaged(engine)
    if packaged is not None:
        return packaged(cache_dir)
    from .pyttsx3 import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer()


def _packaged(engine: str):
    """The synthesiser class of a packaged engine (hibari, pico), or None."""
    if engine == "hibari":
        from .hibari import HibariSynthesizer

        return HibariSynthesizer
    if engine == "pico":
        from .pico import PicoSynthesizer

        return PicoSynthesizer
    return None


_shared: dict[tuple[str, str], Synthesizer] = {}
_shared_lock = threading.Lock()


def shared_synthesizer(engine: str, *, cache_dir: Path | None = None) -> Synthesizer:
    """This process's synthesiser for `engine` (made on first use, stopped at exit): its workers, and
    the voice models they have loaded, serve every render the process does."""
    key = (engine, str(Path(cache_dir).resolve()) if cache_dir is not None else "")
    with _shared_lock:
        synth = _shared.get(key)
        if synth is None:
            synth = _shared[key] = create_synthesizer(engine, cache_dir=cache_dir)
        return synth


def close_shared() -> None:
    """Stop every shared synthesiser's workers (a later render starts them again)."""
    with _shared_lock:
        synths = list(_shared.values())
        _shared.clear()
    for synth in synths:
        synth.close()


atexit.register(close_shared)


def engine_identity(engine: str, voice: str | None = None, language: str | None = None) -> str:
    """Everything that decides how `engine` sounds when asked for `voice` (or, with none, a voice for
    `language`): the engine and library versions and, for Piper, the voice's name and a hash of its
    model and config files. Equal strings mean the same sound, on this machine or another (a batch
    can compare its client's with its workers'). Light: reads files and package metadata only.

    A voice that cannot be found is named as asked (the render reports the problem). For the recording
    engine, `voice` is the take (its bytes are among the render's input files)."""
    _check(engine)
    if engine == RECORDING_ENGINE:
        from ..recording.clean import DEFAULT_CLEAN_LEVEL, cleaner_identity
        from ..recording.recognise import model_identity
        from .recording import engine_description as recording_description

        try:
            recogniser = model_identity(None)
        except AttuneError as exc:
            recogniser = f"recogniser unavailable ({exc.message})"
        return f"{recording_description()}; {cleaner_identity(DEFAULT_CLEAN_LEVEL)}; {recogniser}; take {voice}"
    if engine == "piper":
        from ...errors import VoiceError
        from .piper_voices import engine_description, model_digest, resolve_piper_voice

        try:
            files = resolve_piper_voice(voice, language)
        except VoiceError:
            return f"piper: {engine_description()}; voice {voice or language!r} not found"
        return f"piper: {engine_description()}; voice {files.name} sha256:{model_digest(files)}"
    packaged = _packaged(engine)
    if packaged is not None:
        from .packaged import identity

        return identity(packaged, voice, language)
    from .espeak import engine_description as pyttsx3_description

    return f"pyttsx3: {pyttsx3_description()}; voice {voice or language or 'default'}"
