"""Measurement helpers for tests: levels, spectral peaks, decoding, and ffmpeg's independent loudness meter.

Import them from any test module (`from helpers.audio import decode, ffmpeg_ebur128`); pytest puts
tests/ on sys.path. Everything works on float arrays shaped (frames,) or (frames, channels).
"""

from __future__ import annotations

import math
import re
import struct
import subprocess
from pathlib import Path

import numpy as np

from attune.system.ffmpeg import ffmpeg_exe


def rms_dbfs(x: np.ndarray) -> float:
    """RMS level of all samples (all channels together) in dBFS (full scale 1.0); -inf for silence or empty."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return -math.inf
    mean_square = float(np.mean(np.square(x)))
    return 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


def spectrum_peaks(x: np.ndarray, sample_rate: int, n: int = 5, min_hz: float = 20.0, max_hz: float | None = None) -> list[tuple[float, float]]:
    """The `n` strongest spectral peaks of `x` as (freq_hz, level_db), strongest first.

    Hann-windowed FFT of the whole signal (channels are summed in power); a peak is a local maximum,
    its frequency refined by parabolic interpolation of the dB magnitudes (accurate to a small
    fraction of a bin). Levels are dB relative to the strongest bin of the spectrum (so the first is ~0).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    window = np.hanning(x.shape[0])[:, None]
    power = np.sum(np.abs(np.fft.rfft(x * window, axis=0)) ** 2, axis=1)
    freqs = np.fft.rfftfreq(x.shape[0], 1.0 / sample_rate)
    level = 10.0 * np.log10(np.maximum(power, 1e-300))
    level -= level.max()
    inner = np.arange(1, len(level) - 1)
    is_peak = (level[inner] > level[inner - 1]) & (level[inner] >= level[inner + 1])
    hi = max_hz if max_hz is not None else sample_rate / 2
    candidates = inner[is_peak & (freqs[inner] >= min_hz) & (freqs[inner] <= hi)]
    strongest = candidates[np.argsort(level[candidates])[::-1][:n]]
    peaks = []
    bin_hz = freqs[1] - freqs[0]
    for k in strongest:
        a, b, c = level[k - 1], level[k], level[k + 1]
        denominator = a - 2 * b + c
        shift = 0.5 * (a - c) / denominator if denominator != 0 else 0.0
        peaks.append((float(freqs[k] + shift * bin_hz), float(b - 0.25 * (a - c) * shift)))
    return peaks


def decode(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode any file ffmpeg reads into (frames, channels) float32 at its own rate; returns (audio, sample_rate).

    ffmpeg writes a 32-bit float WAV to stdout; its header gives the rate and channel count, the rest
    is f32le samples (a piped WAV has no valid sizes, so the data chunk runs to the end).
    """
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-c:a", "pcm_f32le", "-f", "wav", "-"]
    result = subprocess.run(command, capture_output=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {result.stderr.decode(errors='replace').strip()}")
    data = result.stdout
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError(f"ffmpeg did not write a WAV for {path}")
    pos, channels, sample_rate = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            channels, sample_rate = struct.unpack("<HI", data[body + 2 : body + 8])
        elif chunk_id == b"data":
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            usable = (end - body) // (4 * channels) * 4 * channels
            audio = np.frombuffer(data, dtype="<f4", count=usable // 4, offset=body).reshape(-1, channels)
            return audio.astype(np.float32), int(sample_rate)
        pos = body + size + (size & 1)
    raise RuntimeError(f"no audio data decoded from {path}")


_SUMMARY_VALUE = {
    "integrated_lufs": re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)\s*LUFS"),
    "loudness_range_lu": re.compile(r"Loudness range:\s*LRA:\s*(-?[\d.]+)\s*LU"),
    "true_peak_dbtp": re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS"),
}


def ffmpeg_ebur128(path: str | Path) -> dict[str, float]:
    """Loudness by ffmpeg's own EBU R128 meter (`ebur128=peak=true`), the independent check.

    Returns integrated_lufs, loudness_range_lu and true_peak_dbtp, parsed from the filter's
    summary (ffmpeg prints one decimal, so expect ±0.05 rounding).
    """
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg ebur128 failed on {path}: {result.stderr.strip()[-500:]}")
    summary = result.stderr[result.stderr.rfind("Summary:") :]
    values = {}
    for key, pattern in _SUMMARY_VALUE.items():
        match = pattern.search(summary)
        if match is None:
            raise RuntimeError(f"no {key} in ffmpeg's ebur128 summary for {path}:\n{summary}")
        values[key] = float(match.group(1))
    return values


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int, *, bits: int = 16) -> Path:
    """Write audio shaped (frames,) or (frames, channels), full scale 1.0, as a WAV: 16-bit PCM
    (rounded and clipped, like a sound file a user has) or 32-bit float (exact, for measuring)."""
    audio = np.asarray(audio)
    audio = audio[:, None] if audio.ndim == 1 else audio
    channels = audio.shape[1]
    if bits == 16:
        data = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2").tobytes()
        fmt = struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16)
    elif bits == 32:
        data = np.ascontiguousarray(audio, dtype="<f4").tobytes()
        fmt = struct.pack("<IHHIIHH", 16, 3, channels, sample_rate, sample_rate * channels * 4, channels * 4, 32)
    else:
        raise ValueError(f"bits must be 16 or 32, not {bits}")
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", len(data))
    Path(path).write_bytes(header + data)
    return Path(path)


def speech_spans_s(plan_or_json) -> list[tuple[float, float]]:
    """(start_s, end_s) of every speech event, from a Plan or from `attune plan --json` output."""
    if isinstance(plan_or_json, dict):
        return [(e["start_s"], e["start_s"] + e["duration_s"]) for e in plan_or_json["events"] if e["kind"] == "speech"]
    return [(e.start_s, e.start_s + e.duration_s) for e in plan_or_json.events if e.kind == "speech"]


def voice_ebur128(path: str | Path, spans_s, scratch: str | Path, audio: tuple[np.ndarray, int] | None = None) -> float:
    """The voice's integrated loudness by ffmpeg's meter: the speech events cut out of the decoded
    file and joined, as the loudness issue defines it. `audio` is the decoded file, if already at hand."""
    audio, sr = audio if audio is not None else decode(path)
    voice = np.concatenate([audio[round(a * sr) : round(b * sr)] for a, b in spans_s])
    return ffmpeg_ebur128(write_wav(Path(scratch) / "voice.wav", voice, sr, bits=32))["integrated_lufs"]


def ffmpeg_chapters(path: str | Path) -> list[tuple[str, float, float]]:
    """The chapters ffmpeg reads from a file (`-f ffmetadata`): (title, start_s, end_s), in its order."""
    result = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"], capture_output=True, text=True, timeout=60, check=True
    )
    chapters, current = [], None
    for line in result.stdout.splitlines():
        if line == "[CHAPTER]":
            current = {}
            chapters.append(current)
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key] = value
    out = []
    for chapter in chapters:
        num, den = (int(x) for x in chapter["TIMEBASE"].split("/"))
        scale = num / den
        out.append((chapter.get("title", ""), int(chapter["START"]) * scale, int(chapter["END"]) * scale))
    return out


def decode_mono(path: str | Path, sample_rate: int = 8000) -> np.ndarray:
    """The file's first audio stream as mono float32 at `sample_rate` (ffmpeg resamples): small enough
    to hold a 45-minute track (86 MB at 8 kHz) where `decode` would need almost a gigabyte."""
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate)]
    result = subprocess.run([*command, "-f", "f32le", "-"], capture_output=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {result.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(result.stdout, dtype="<f4").copy()


def bell_strikes(x: np.ndarray, sample_rate: int, *, min_match: float = 0.97) -> list[tuple[float, str]]:
    """Every singing-bowl strike in mono audio `x`, found in the sound itself: (onset in seconds,
    "bell" or "soft"), in order.

    Matched filtering: the normalised cross-correlation of `x` with each strike (the opening bell's and
    the interval bell's softer one, resampled to `sample_rate`) is near 1 where that strike sounds and low
    over speech, breath or silence; each peak above `min_match` that rises out of quiet (a strike's own
    ring matches a later copy of it too) is an onset, to the sample. The two strikes match each other
    at about 0.986, so each onset takes the kind it matches better. Loudness does not matter, only
    shape: a doubled bell counts twice. 2 kHz is enough (the bowl's strongest modes are 246 and 679 Hz).
    """
    from scipy.signal import fftconvolve, resample_poly

    from attune.audio.bells import bell_strike

    # The match is taken at 8 kHz or more: at 2 kHz a strike that starts between two samples (most do)
    # matches its own template at only 0.978 (the 679 Hz mode is three samples long), close enough to
    # `min_match` to lose a bell (the starter test did, now and then). Both are band-limited at the
    # caller's rate first, so they hold the same content.
    up = max(1, -(-8000 // sample_rate))
    x = np.asarray(x, dtype=np.float64)
    if up > 1:
        x = resample_poly(x, up, 1)
    caller_rate, sample_rate = sample_rate, sample_rate * up
    found: list[tuple[int, float, str]] = []
    for kind, soft in (("bell", False), ("soft", True)):
        template = resample_poly(bell_strike(44100, soft=soft).mean(axis=1).astype(np.float64), caller_rate, 44100)
        if up > 1:
            template = resample_poly(template, up, 1)
        template = template[: round(2.5 * sample_rate)]  # the strike before its release: the part that identifies it
        n = template.size
        if x.size < n:
            continue
        corr = fftconvolve(x, template[::-1], mode="valid")
        energy = np.concatenate([[0.0], np.cumsum(x * x)])
        local = np.sqrt(np.maximum(energy[n:] - energy[:-n], 0.0))
        audible = local > 1e-3 * local.max()  # digital silence matches nothing (no 0/0)
        match = np.where(audible, corr / (np.where(audible, local, 1.0) * np.linalg.norm(template)), 0.0)
        # A strike's own ring matches a shifted copy of it too (its decay looks the same from any point):
        # an onset must also rise out of quiet, with the 10 ms before it under a quarter of the energy of
        # the 10 ms after it.
        edge = max(1, round(0.010 * sample_rate))
        above = np.flatnonzero(match > min_match)
        before = energy[np.maximum(above, edge)] - energy[np.maximum(above - edge, 0)]
        after = energy[np.minimum(above + edge, x.size)] - energy[above]
        above = above[(above < edge) | (before < 0.25 * after)]
        while above.size:
            run_end = above[0] + 7 * sample_rate
            run = above[above < run_end]
            best = int(run[np.argmax(match[run])])
            found.append((best, float(match[best]), kind))
            above = above[above >= run_end]
    # A strike matches both templates: keep the better match at each onset.
    found.sort()
    strikes: list[tuple[int, float, str]] = []
    for at, score, kind in found:
        if strikes and at - strikes[-1][0] < 2 * sample_rate:
            if score > strikes[-1][1]:
                strikes[-1] = (at, score, kind)
            continue
        strikes.append((at, score, kind))
    return [(at / sample_rate, kind) for at, _, kind in strikes]
