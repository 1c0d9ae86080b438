"""A take: the practitioner's recording, decoded with Attune's ffmpeg to mono float32 at any rate asked.

wav, flac, mp3, m4a/aac, ogg/opus, at any sample rate, mono or stereo (stereo is averaged). A file
that ffmpeg cannot read is one error naming it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import AudioError
from ...system.ffmpeg import ffmpeg_exe

if TYPE_CHECKING:
    import numpy as np

#: The formats the README names; ffmpeg reads more, and any it can read is accepted.
TAKE_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".opus", ".oga", ".webm")


def check_take(path: Path, *, where: str | None = None, line: int | None = None) -> Path:
    """The take, if it is a file; else the one error saying so."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"the recording {path} does not exist", "give the path of your take (wav, flac, mp3, m4a, ogg or opus)", path=where, line=line)
    return path


def decode_take(path: Path, rate_hz: int) -> np.ndarray:
    """The whole take as mono float32 at `rate_hz` (ffmpeg resamples and downmixes)."""
    import numpy as np

    check_take(path)
    argv = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate_hz), "-f", "f32le", "-"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise AudioError(f"decoding the recording {path} took over 10 minutes", "convert it to WAV or FLAC and try again") from None
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else "no audio in it"
        raise AudioError(f"cannot decode the recording {path} ({reason})", "give a wav, flac, mp3, m4a, ogg or opus file")
    return np.frombuffer(done.stdout, dtype="<f4").copy()
