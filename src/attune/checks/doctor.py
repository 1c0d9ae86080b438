"""`attune doctor`: which speech engine, voices and ffmpeg are in use, and what to do about gaps."""

from __future__ import annotations

import platform
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..version import __version__


def run_doctor(echo: Callable[[str], None]) -> bool:
    """Print a report; return False when something Attune needs is missing."""
    from ..errors import AttuneError
    from ..speech.engines.base import VoiceSettings
    from ..speech.engines.espeak import engine_description, find_espeak
    from ..speech.engines.pyttsx3 import Pyttsx3Synthesizer
    from ..speech.voices import resolve_voice
    from ..system.ffmpeg import ffmpeg_exe, ffmpeg_version
    from ..system.paths import default_cache_dir

    ok = True
    echo(f"attune {__version__} on Python {platform.python_version()} ({platform.system()})")
    lib = find_espeak()
    if platform.system() == "Linux" and lib is None:
        echo("engine pyttsx3: MISSING libespeak-ng — run `pip install espeakng-loader` (or install espeak-ng)")
        ok = False
    else:
        echo(f"engine pyttsx3: installed — {engine_description()}" + (f" — {lib.library_path}" if lib is not None else ""))
    synth = Pyttsx3Synthesizer(parallelism=1)
    try:
        voices = synth.voices()
        echo(f"         voices: {len(voices)} (list them with `attune voices`), {len(synth.variants())} espeak variants")
        ok &= _speak_test(synth, VoiceSettings(resolve_voice(None, voices, variants=synth.variants()), 140.0), None, echo)
    except AttuneError as exc:
        echo(f"         voices: FAILED — {exc}")
        ok = False
    finally:
        synth.close()
    ok &= _piper_report(echo)
    _packaged_report(echo)
    _recording_report(echo)
    try:
        exe = ffmpeg_exe()
        encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30).stdout
        lame = "libmp3lame" in encoders
        echo(f"ffmpeg:  {exe} ({ffmpeg_version()}){'' if lame else ' — MISSING libmp3lame: install imageio-ffmpeg'}")
        ok &= lame
    except AttuneError as exc:
        echo(f"ffmpeg:  MISSING — {exc}")
        ok = False
    echo(f"cache:   {default_cache_dir()} (override with --cache-dir or ATTUNE_CACHE_DIR)")
    echo("status:  ready" if ok else "status:  NOT READY — see above")
    return ok


def _speak_test(synth, voice, label: str | None, echo: Callable[[str], None]) -> bool:
    """Speak one sentence through the engine into a scratch cache and say how long it came out."""
    from ..errors import AttuneError
    from ..speech.cache import SpeechCache
    from ..timebase import SAMPLE_RATE

    try:
        with tempfile.TemporaryDirectory() as scratch:
            cache = SpeechCache(synth, Path(scratch))
            key = cache.ensure(["Attune is ready."], voice)["Attune is ready."]
            echo(f"         test sentence spoken with {label or voice.voice_id}: {cache.frames(key) / SAMPLE_RATE:.2f}s of audio")
        return True
    except AttuneError as exc:
        echo(f"         test sentence: FAILED — {exc}")
        return False


def _recording_report(echo: Callable[[str], None]) -> None:
    """The recording engine is optional: its recogniser and its clean-up, or how to install them."""
    from ..errors import AttuneError
    from ..speech.recording.recognise import INSTALL_HINT, model_identity, model_source, recogniser_installed

    if not recogniser_installed():
        echo(f"engine recording: not installed — `{INSTALL_HINT}` to speak with your own take (--recording)")
        return
    try:
        source, _ = model_source(None)
        echo(f"engine recording: installed — {model_identity(None)} — {source}")
    except AttuneError as exc:
        echo(f"engine recording: FAILED — {exc}")
        return
    from ..speech.recording.clean import CLEAN_LEVELS, DEFAULT_CLEAN_LEVEL, cleaner_identity

    for level in CLEAN_LEVELS:
        echo(f"         --clean {level}{' (default)' if level == DEFAULT_CLEAN_LEVEL else ''}: {cleaner_identity(level)}")


def _piper_report(echo: Callable[[str], None]) -> bool:
    """Piper is optional: not installed is reported with how to install it; installed but broken is a failure."""
    from ..errors import AttuneError
    from ..speech.engines.piper_voices import INSTALL_HINT, VOICE_LIST, installed_voices, onnxruntime_version, piper_version, voices_dir

    echo(f"onnxruntime: {onnxruntime_version() or 'not installed'}")
    if piper_version() is None:
        echo(f"engine piper:   not installed — {INSTALL_HINT} (neural voices; GPL-3.0)")
        return True
    from ..speech.engines.piper import PiperSynthesizer, engine_description

    echo(f"engine piper:   installed — {engine_description()}")
    voices = installed_voices()
    names = ", ".join(v.name for v in voices[:6]) + (", …" if len(voices) > 6 else "")
    echo(f"         voices: {len(voices)}{f' ({names})' if voices else ''}; voices folder {voices_dir()}")
    if not voices:
        echo(f"         no Piper voice: add one from {VOICE_LIST} to the voices folder, or {INSTALL_HINT}")
        return True
    synth = PiperSynthesizer(parallelism=1)  # the voice's pace is measured once, into the real cache
    try:
        voice = synth.voice_settings(None, 140.0, None, None, voices[0].language)
        return _speak_test(synth, voice, voices[0].name, echo)
    except AttuneError as exc:
        echo(f"         test sentence: FAILED — {exc}")
        return False
    finally:
        synth.close()


def _packaged_report(echo: Callable[[str], None]) -> None:
    """hibari and SVOX Pico are optional (`attune[voices]`): installed or not, and their voices."""
    from ..speech.engines import _packaged

    for engine in ("hibari", "pico"):
        synth_class = _packaged(engine)
        assert synth_class is not None
        table = synth_class.table()
        if not table:
            echo(f"engine {engine}:  not installed — {synth_class.INSTALL_HINT} (Apache-2.0)")
            continue
        ready = [v.name for v in table if v.ready]
        waiting = len(table) - len(ready)
        echo(f"engine {engine}:  installed — {synth_class.description()}; voices: {', '.join(ready)}" + (f" ({waiting} more need a download)" if waiting else ""))
