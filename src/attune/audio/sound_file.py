"""Sound files as beds: decoded with ffmpeg, resampled, and made into a seamless loop.

ffmpeg (the imageio-ffmpeg binary) decodes whatever it recognises; pydub parses the WAV it writes.
"""

from __future__ import annotations

import io
import math
import subprocess
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..system.ffmpeg import configure_pydub, ffmpeg_exe

#: Only this much of a sound file is used (memory: 3 min of stereo float32 is 64 MB).
FILE_BED_MAX_S = 180.0
#: Equal-power crossfade that joins a file's tail to its head.
FILE_BED_CROSSFADE_S = 2.0
FILE_BED_MIN_S = 1.0


def decode_sound(path: Path, max_s: float, name: str) -> tuple[np.ndarray, int]:
    """Decode up to `max_s` seconds of `path` to (frames, 2) float32 at the file's own rate.

    How: ffmpeg (ffmpeg_exe()) decodes whatever it recognises to a 16-bit stereo WAV on stdout and
    pydub parses that WAV (`AudioSegment.from_wav`). pydub's own `from_file` would first run ffprobe,
    which the imageio-ffmpeg wheel does not ship (or, given `codec=`, force a decoder chosen from the
    suffix, which is wrong for e.g. Opus in .ogg); parsing a WAV never runs ffprobe. ffmpeg's `-ac 2`
    duplicates mono and downmixes surround with its standard matrix.
    """
    configure_pydub()
    from pydub import AudioSegment

    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-i", str(path), "-map", "0:a:0", "-vn", "-t", f"{max_s:g}",
        "-ac", "2", "-c:a", "pcm_s16le", "-f", "wav", "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"ffmpeg could not read background file {name!r} ({exc})") from None
    if result.returncode != 0 or len(result.stdout) <= 44:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        detail = reason[-1].replace(str(path), "").strip(" :") if reason else "no audio stream"
        raise AudioError(
            f"background file {name!r} is not a sound file ffmpeg can decode",
            f"use a WAV, MP3, OGG or FLAC file (ffmpeg: {detail})",
        )
    segment = AudioSegment.from_wav(io.BytesIO(result.stdout))
    del result
    samples = np.frombuffer(segment.raw_data, dtype="<i2").reshape(-1, segment.channels)
    if len(samples) == 0:
        raise AudioError(f"background file {name!r} contains no audio", "use a WAV, MP3, OGG or FLAC file")
    audio = samples.astype(np.float32)
    audio *= np.float32(1.0 / 32768.0)
    return audio, segment.frame_rate


def file_loop(path: Path, sample_rate: int) -> np.ndarray:
    """The first FILE_BED_MAX_S of a sound file at `sample_rate`, made into a seamless loop.

    Resampled with scipy.signal.resample_poly (polyphase, Kaiser-windowed). The loop is the file
    without its first X frames (X = crossfade, ~2 s), whose last X frames are an equal-power
    crossfade (cos/sin) from the file's tail into its head: the loop's last frame is followed by
    frame X of the file, which is exactly where the head fade-in ended — no jump at the seam.
    """
    import scipy.signal

    audio, file_rate = decode_sound(path, FILE_BED_MAX_S, path.name)
    if file_rate != sample_rate:
        common = math.gcd(file_rate, sample_rate)
        up, down = sample_rate // common, file_rate // common
        # One channel at a time (float32 in, float32 out) to keep the peak memory near two copies.
        first = scipy.signal.resample_poly(audio[:, 0], up, down)
        resampled = np.empty((len(first), 2), dtype=np.float32)
        resampled[:, 0] = first
        del first
        resampled[:, 1] = scipy.signal.resample_poly(audio[:, 1], up, down)
        audio = resampled
    frames = len(audio)
    if frames < FILE_BED_MIN_S * sample_rate:
        raise AudioError(
            f"background file {path.name!r} is only {frames / sample_rate:.2f} s long",
            f"use a sound of at least {FILE_BED_MIN_S:g} s",
        )
    fade = min(round(FILE_BED_CROSSFADE_S * sample_rate), frames // 4)
    t = (np.arange(fade, dtype=np.float64) + 0.5) / fade
    fade_in = np.sin(0.5 * np.pi * t)[:, None]
    fade_out = np.cos(0.5 * np.pi * t)[:, None]
    loop = audio[fade:]  # frames X .. N-1 (a view: the head before it is only read for the fade)
    loop[-fade:] = audio[-fade:] * fade_out + audio[:fade] * fade_in
    return loop
