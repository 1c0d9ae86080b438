"""`attune doctor`: which speech engine, voices and ffmpeg are in use, and what to do about gaps."""

from __future__ import annotations

import platform
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import __version__


def run_doctor(echo: Callable[[str], None]) -> bool:
    """Print a report; return False when something Attune needs is missing."""
    from .errors import AttuneError
    from .request import default_cache_dir
    from .speech.cache import SpeechCache
    from .speech.engines.base import VoiceSettings
    from .speech.engines.espeak import engine_description, find_espeak
    from .speech.engines.pyttsx3 import Pyttsx3Synthesizer
    from .speech.voices import resolve_voice
    from .system.ffmpeg import ffmpeg_exe, ffmpeg_version
    from .timebase import SAMPLE_RATE

    ok = True
    echo(f"attune {__version__} on Python {platform.python_version()} ({platform.system()})")
    lib = find_espeak()
    if platform.system() == "Linux":
        if lib is None:
            echo("speech:  MISSING libespeak-ng — run `pip install espeakng-loader` (or install espeak-ng)")
            ok = False
        else:
            echo(f"speech:  {engine_description()} — {lib.library_path}")
    else:
        echo(f"speech:  {engine_description()}")
    synth = Pyttsx3Synthesizer()
    try:
        voices = synth.voices()
        echo(f"voices:  {len(voices)} (list them with `attune voices`), {len(synth.variants())} espeak variants")
        with tempfile.TemporaryDirectory() as scratch:
            cache = SpeechCache(synth, Path(scratch))
            voice = VoiceSettings(resolve_voice(None, voices, variants=synth.variants()), 140.0)
            key = cache.ensure(["Attune is ready."], voice)["Attune is ready."]
            echo(f"         test sentence spoken with {voice.voice_id}: {cache.frames(key) / SAMPLE_RATE:.2f}s of audio")
    except AttuneError as exc:
        echo(f"voices:  FAILED — {exc}")
        ok = False
    finally:
        synth.close()
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
