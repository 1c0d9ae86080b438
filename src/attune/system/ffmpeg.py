"""Find ffmpeg (a system one on PATH, else the binary in the imageio-ffmpeg wheel) and hand it to pydub."""

from __future__ import annotations

import functools
import shutil
import subprocess
import warnings

from ..errors import AudioError


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary Attune runs: `ffmpeg` on PATH if present, else imageio-ffmpeg's copy."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise AudioError("no ffmpeg found", "run `pip install imageio-ffmpeg` or put ffmpeg on PATH") from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:  # pragma: no cover - the wheel ships the binary
        raise AudioError(f"no ffmpeg found ({exc})", "run `pip install --force-reinstall imageio-ffmpeg`") from None


@functools.cache
def ffmpeg_version() -> str:
    """The first line of `ffmpeg -version`, e.g. `ffmpeg version 7.0.2`."""
    out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, timeout=30).stdout
    return out.splitlines()[0].split(" Copyright")[0] if out else "unknown"


@functools.cache
def configure_pydub():
    """Point pydub at Attune's ffmpeg (it looks only on PATH by itself) and return `AudioSegment`.

    Import pydub through here: on import it warns when no ffmpeg is on PATH, which is expected.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_exe()
    return AudioSegment
