"""Clips: what an engine wrote, read, validated and made ready to mix.

`process_clip` turns raw engine samples into a clip at the track's rate: trimmed, edge-faded, and
refused when empty, inaudible or truncated. Attune never puts silence where speech failed.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from ..errors import SpeechError
from ..script.text import count_words
from ..system.ffmpeg import configure_pydub
from ..timebase import SAMPLE_RATE

#: Edge fade of every clip, so that no join has a discontinuity.
EDGE_FADE_S = 0.005
_ACTIVE_DBFS = -50.0


def excerpt(text: str, limit: int = 40) -> str:
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'


def _active_windows(samples: np.ndarray, rate_hz: int) -> tuple[np.ndarray, np.ndarray, int]:
    """RMS of each 10 ms window, the indices of the windows above -50 dBFS, and the window length."""
    window = max(1, rate_hz // 100)  # 10 ms
    usable = samples[: samples.size // window * window]
    if usable.size == 0:
        return np.zeros(0), np.zeros(0, dtype=np.intp), window
    rms = np.sqrt(np.mean(usable.reshape(-1, window).astype(np.float64) ** 2, axis=1))
    return rms, np.nonzero(rms > 10 ** (_ACTIVE_DBFS / 20))[0], window


def spoken_span_s(samples: np.ndarray, rate_hz: int) -> float:
    """Seconds from the first to the last sounding 10 ms window: the sentence as it will be laid out.

    Speaking pace is measured on it (words per minute of spoken span), the same way for every engine."""
    _, active, window = _active_windows(samples, rate_hz)
    return float((active[-1] - active[0] + 1) * window / rate_hz) if active.size else 0.0


def process_clip(samples: np.ndarray, rate_hz: int, text: str, rate_wpm: float) -> np.ndarray:
    """Turn raw engine samples (mono float in -1..1) into a clip at SAMPLE_RATE: validated, trimmed, faded.

    Raises SpeechError when the audio is empty, inaudible, or truncated (shorter than the words could
    be spoken in, or cut off while still sounding).
    """
    if samples.size == 0 or not np.any(samples):
        raise SpeechError(f"the speech engine returned no audio for {excerpt(text)}", "try again; if it persists, run `attune doctor`")
    rms, active, window = _active_windows(samples, rate_hz)
    if rms.size == 0:
        raise SpeechError(f"the speech engine returned only {samples.size} samples for {excerpt(text)}", "try again")
    if active.size == 0:
        raise SpeechError(f"the speech engine returned silence for {excerpt(text)}", "try again; if it persists, run `attune doctor`")
    spoken_s = (active[-1] - active[0] + 1) * window / rate_hz
    words = count_words(text)
    expected_min_s = 0.25 * words * 60.0 / max(rate_wpm, 1.0)
    if spoken_s < expected_min_s or rms[-1] > 10 ** (-40 / 20):
        raise SpeechError(
            f"the speech engine returned truncated audio for {excerpt(text)} ({spoken_s:.2f}s for {words} words)",
            "try again; if it persists, run `attune doctor`",
        )
    start = max(0, active[0] * window - int(0.02 * rate_hz))
    stop = min(samples.size, (active[-1] + 1) * window + int(0.04 * rate_hz))
    clip = samples[start:stop].astype(np.float64)
    if rate_hz != SAMPLE_RATE:
        from scipy.signal import resample_poly  # imported only when speech is synthesised (scipy.signal is slow to load)

        g = gcd(SAMPLE_RATE, rate_hz)
        clip = resample_poly(clip, SAMPLE_RATE // g, rate_hz // g)
    fade = min(int(EDGE_FADE_S * SAMPLE_RATE), clip.size // 2)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    return clip.astype(np.float32)


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Read an engine's WAV through pydub (the clip layer) as mono float in -1..1."""
    AudioSegment = configure_pydub()
    try:
        segment = AudioSegment.from_wav(str(path))
    except Exception as exc:
        raise SpeechError(f"the speech engine wrote an unreadable file ({exc})", "try again; if it persists, run `attune doctor`") from None
    data = np.array(segment.get_array_of_samples(), dtype=np.float64)
    if segment.channels > 1:
        data = data.reshape(-1, segment.channels).mean(axis=1)
    return data / float(1 << (8 * segment.sample_width - 1)), segment.frame_rate
