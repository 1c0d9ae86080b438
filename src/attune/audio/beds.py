"""Background beds: drone, binaural tones, coloured noise, or a looped sound file.

`make_bed(spec)` builds a `Bed` whose `render(start, n)` returns any stretch of an endless,
deterministic bed: every bed is made of one or two precomputed seamless loops (whole cycles /
circular noise / a crossfaded file), so rendering a block is a slice and an add. Each bed is scaled
once so that it measures BED_REFERENCE_LUFS; the mixer applies `gain_db` relative to the voice.
The specs themselves (`BedSpec`, parsed from what users write) are in `attune.audio.background`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Protocol

import numpy as np

from ..errors import AudioError, SettingsError
from .background import BedSpec
from .sound_file import FileBed

#: Every bed renders at this integrated loudness (BS.1770) at gain 0.
BED_REFERENCE_LUFS = -20.0


class Bed(Protocol):
    """An endless background: any stretch of it, deterministically."""

    def render(self, start_frame: int, n_frames: int) -> np.ndarray:
        """Frames start_frame .. start_frame + n_frames - 1, shaped (n_frames, 2), float32: a new array,
        which the caller may modify."""
        ...


#: Each loop is stored with this many extra frames (its head repeated), so any block up to this
#: long is one contiguous slice: rendering costs one copy (one loop) or one add (two loops).
_LOOP_EXTENSION_FRAMES = 1 << 17


class LoopBed:
    """A bed that is the sum of one or two seamless loops, tiled forever (see `make_bed`)."""

    def __init__(self, spec: BedSpec, loops: list[np.ndarray], sample_rate: int):
        self.spec = spec
        self.sample_rate = sample_rate
        self._lengths = [len(loop) for loop in loops]
        # Loop i repeated to L_i + E frames: frames s..s+n of the endless loop are ext[s % L:][:n].
        self._extended = [_extend(loop) for loop in loops]
        #: The bed repeats exactly after this many frames (the loops' lengths are coprime for noise and drone).
        self.period_frames = math.lcm(*self._lengths)

    @property
    def loop_frames(self) -> tuple[int, ...]:
        """The length of each loop, in frames."""
        return tuple(self._lengths)

    def render(self, start_frame: int, n_frames: int) -> np.ndarray:
        """Frames start_frame .. start_frame + n_frames - 1 of the bed: (n_frames, 2) float32, a new array.

        The bed is periodic, so any start (even negative) is valid; `render(a, n)` is exactly rows
        a.. of `render(0, a + n)`.
        """
        start_frame, n_frames = int(start_frame), int(n_frames)
        if n_frames < 0:
            raise ValueError(f"render needs n_frames >= 0, got {n_frames}")
        pieces = [self._piece(i, start_frame, n_frames) for i in range(len(self._lengths))]
        if len(pieces) == 1:
            return np.array(pieces[0], dtype=np.float32, copy=True)
        out = np.add(pieces[0], pieces[1])
        for piece in pieces[2:]:
            out += piece
        return out

    def _piece(self, i: int, start_frame: int, n_frames: int) -> np.ndarray:
        length, extended = self._lengths[i], self._extended[i]
        offset = start_frame % length
        if n_frames <= _LOOP_EXTENSION_FRAMES:
            return extended[offset : offset + n_frames]
        # Longer than the extension: copy whole runs of the loop (same values, so same result).
        out = np.empty((n_frames, 2), dtype=np.float32)
        done = 0
        while done < n_frames:
            take = min(n_frames - done, length + _LOOP_EXTENSION_FRAMES - offset)
            out[done : done + take] = extended[offset : offset + take]
            done += take
            offset = (offset + take) % length
        return out


def _extend(loop: np.ndarray) -> np.ndarray:
    """The loop followed by its own head, tiled to _LOOP_EXTENSION_FRAMES more frames; read-only.

    (Not np.resize, whose result is a view of a 2x-long temporary that stays alive.)
    """
    length = len(loop)
    extended = np.empty((length + _LOOP_EXTENSION_FRAMES, 2), dtype=np.float32)
    extended[:length] = loop
    for start in range(length, len(extended), length):
        take = min(length, len(extended) - start)
        extended[start : start + take] = loop[:take]
    extended.flags.writeable = False
    return extended


def make_bed(spec: BedSpec, sample_rate: int = 44100, max_frames: int | None = None) -> Bed:
    """Build the bed `spec` describes, scaled to BED_REFERENCE_LUFS. File beds decode their file here
    (the whole file, or enough of it for `max_frames`, the track's length)."""
    if int(sample_rate) != sample_rate or sample_rate < 8000:
        raise ValueError(f"sample_rate must be an integer >= 8000 Hz, got {sample_rate!r}")
    sample_rate = int(sample_rate)
    if spec.kind == "file" and spec.path is not None:
        return _file_bed(spec.path, sample_rate, max_frames)
    if spec.kind == "drone":
        loops = _drone_loops(spec.root_hz, spec.seed, sample_rate)
    elif spec.kind == "binaural":
        loops = [_binaural_loop(spec.carrier_hz, spec.beat_hz, sample_rate)]
    elif spec.kind.endswith("-noise"):
        loops = _noise_loops(spec.kind, spec.seed, sample_rate)
    else:  # pragma: no cover - BedSpec validates kinds
        raise SettingsError(f"unknown background kind {spec.kind!r}")
    gain = _reference_gain(loops, sample_rate, name=spec.path.name if spec.path else spec.kind)
    scaled = []
    for loop in loops:
        if loop.dtype == np.float32:
            loop *= np.float32(gain)  # our own array (a file loop): scale in place, no second copy
            scaled.append(loop)
        else:
            scaled.append((loop * gain).astype(np.float32))
    del loops
    return LoopBed(spec, scaled, sample_rate)


#: A file bed's loudness is measured over (at most) this much of its loop: its level, not its whole length.
FILE_BED_MEASURE_S = 180.0


def _file_bed(path, sample_rate: int, max_frames: int | None) -> FileBed:
    bed = FileBed(path, sample_rate, max_frames)
    from .meter import LoudnessMeter  # scipy: imported when a bed is built, not when one is parsed

    meter = LoudnessMeter(sample_rate, 2)
    for block in bed.blocks(min(bed.loop_length, max(round(FILE_BED_MEASURE_S * sample_rate), 10 * sample_rate))):
        meter.add(block)
    lufs = meter.integrated_lufs()
    if not math.isfinite(lufs):
        bed.close()
        raise AudioError(f"background {path.name!r} is silent", "use a sound that is audible")
    bed.gain = 10.0 ** ((BED_REFERENCE_LUFS - lufs) / 20.0)
    return bed


def _reference_gain(loops: list[np.ndarray], sample_rate: int, name: str) -> float:
    """The gain that brings the summed loops to BED_REFERENCE_LUFS, measured over the longest loop.

    Measured with attune.loudness.LoudnessMeter (validated against pyloudnorm to 0.05 LU) in
    65,536-frame chunks, so even a 3-minute file loop is measured without a second copy.
    """
    longest = max(len(loop) for loop in loops)
    frames = max(longest, 10 * sample_rate)
    from .meter import LoudnessMeter  # scipy: imported when a bed is built, not when one is parsed

    meter = LoudnessMeter(sample_rate, 2)
    chunk = 1 << 16
    for start in range(0, frames, chunk):
        n = min(chunk, frames - start)
        block = np.zeros((n, 2), dtype=np.float64)
        for loop in loops:
            index = (np.arange(start, start + n) % len(loop)) if len(loop) < start + n else slice(start, start + n)
            block += loop[index]
        meter.add(block.astype(np.float32))
    lufs = meter.integrated_lufs()
    if not math.isfinite(lufs):
        raise AudioError(f"background {name!r} is silent", "use a sound that is audible")
    return 10.0 ** ((BED_REFERENCE_LUFS - lufs) / 20.0)


# -- loop lengths ------------------------------------------------------------------------------


def _smooth_at_least(target: int, primes: tuple[int, ...]) -> int:
    """The smallest integer >= target whose prime factors are all in `primes` (fast FFT sizes)."""
    values = [1]
    for p in primes:
        grown = []
        for v in values:
            while v < 2 * target:
                grown.append(v)
                v *= p
        values = grown
    return min(v for v in values if v >= target)


def _coprime_lengths(a_s: float, b_s: float, sample_rate: int) -> tuple[int, int]:
    """Two loop lengths of about a_s and b_s seconds, coprime (one 2,5-smooth, the other 3,7,11,13-smooth).

    The sum of two loops then repeats only after L_a * L_b frames (over 700 hours for 23 s and 31 s),
    and both lengths are fast FFT sizes (a prime length costs ~10x more to synthesise).
    """
    return _smooth_at_least(round(a_s * sample_rate), (2, 5)), _smooth_at_least(round(b_s * sample_rate), (3, 7, 11, 13))


# -- drone ---------------------------------------------------------------------------------------

#: (ratio to the root, amplitude, which loop) — a soft harmonic pad: root, octave, fifth, twelfth,
#: double octave and a faint major third above it.
_DRONE_PARTIALS = (
    (1.0, 1.00, 0),
    (2.0, 0.45, 0),
    (1.5, 0.40, 1),
    (3.0, 0.16, 1),
    (4.0, 0.07, 0),
    (5.0, 0.035, 1),
)


def _drone_loops(root_hz: float, seed: int, sample_rate: int) -> list[np.ndarray]:
    """Two loops (~29 s and ~37.6 s, coprime) of slowly beating, slowly swelling partials.

    Each partial is a main voice and a quieter chorus voice detuned by a few cycles per loop (slow
    beats), each amplitude-modulated by an LFO of 1-3 cycles per loop (slow swells). Every frequency is a whole number of
    cycles per loop, so each loop is seamless; they are built as sparse spectra and one inverse FFT
    per channel (an AM tone a(1 + d cos wm t) cos(wk t) is three spectral lines: k and k ± m).
    """
    lengths = _coprime_lengths(29.0, 37.0, sample_rate)
    rng = np.random.default_rng([seed, 0xD20E])
    spectra = [np.zeros((length // 2 + 1, 2), dtype=np.complex128) for length in lengths]
    for ratio, amplitude, which in _DRONE_PARTIALS:
        freq_hz = root_hz * ratio
        if freq_hz > 0.45 * sample_rate:
            continue
        length = lengths[which]
        k = round(freq_hz * length / sample_rate)  # whole cycles per loop
        phase = rng.uniform(0, 2 * np.pi)
        detune = int(rng.integers(3, 7))  # the chorus voice: 3-6 cycles per loop above (beats every 5-10 s)
        for voice, voice_amplitude in ((0, 1.0), (1, 0.25)):
            lfo_cycles = int(rng.integers(1, 4))  # swell period: the loop length / 1..3 (10-37 s)
            depth = float(rng.uniform(0.2, 0.4))
            lfo_phase = rng.uniform(0, 2 * np.pi)
            voice_phase = phase + (rng.uniform(0, 2 * np.pi) if voice else 0.0)
            for ch in range(2):
                # The right ear differs slightly: its chorus voice starts 0.8 rad later and its
                # swells run 0.3 rad later.
                k_voice = k + (detune if voice else 0)
                scale = amplitude * voice_amplitude * length / 2
                psi = lfo_phase + 0.3 * ch
                channel_phase = voice_phase + (0.8 * ch if voice else 0.0)
                # x = a cos(2π k n/L + φ)(1 + d cos(2π m n/L + ψ)) is three lines: k (a) and k ± m (a d/2);
                # irfft turns X[k] = a L/2 e^{iφ} into a cos(2π k n/L + φ).
                spectra[which][k_voice, ch] += scale * np.exp(1j * channel_phase)
                spectra[which][k_voice + lfo_cycles, ch] += scale * depth / 2 * np.exp(1j * (channel_phase + psi))
                spectra[which][max(k_voice - lfo_cycles, 1), ch] += scale * depth / 2 * np.exp(1j * (channel_phase - psi))
    # Single-precision inverse FFTs (3x faster than double; the error is ~-130 dB).
    import scipy.fft

    return [scipy.fft.irfft(spectrum.astype(np.complex64), n=length, axis=0) for spectrum, length in zip(spectra, lengths)]


# -- binaural ------------------------------------------------------------------------------------

#: Fallback loop when carrier and beat are not whole cycles in any loop of up to 60 s: frequencies
#: are then rounded to the nearest 1/40 Hz.
_BINAURAL_FALLBACK_S = 40


def _binaural_loop(carrier_hz: float, beat_hz: float, sample_rate: int) -> np.ndarray:
    """Left: carrier_hz; right: carrier_hz + beat_hz; one loop holding whole cycles of both.

    The loop lasts the smallest whole number of seconds (<= 60) in which both frequencies complete
    whole cycles (1 s for 200 + 6 Hz; 100 s would be needed for 7.83 Hz, so such values are rounded
    to the nearest 1/40 Hz in a 40 s loop).
    """
    left = Fraction(carrier_hz).limit_denominator(1000)
    right = Fraction(carrier_hz + beat_hz).limit_denominator(1000)
    seconds = math.lcm(left.denominator, right.denominator)
    if seconds > 60 or abs(float(left) - carrier_hz) > 1e-9 or abs(float(right) - carrier_hz - beat_hz) > 1e-9:
        seconds = _BINAURAL_FALLBACK_S
    length = seconds * sample_rate
    n = np.arange(length, dtype=np.int64)
    loop = np.empty((length, 2), dtype=np.float64)
    for ch, freq_hz in enumerate((carrier_hz, carrier_hz + beat_hz)):
        cycles = round(freq_hz * seconds)
        # Phase from exact integers: 2π ((cycles * n) mod L) / L, identical at every loop repeat.
        loop[:, ch] = np.sin(2 * np.pi * ((cycles * n) % length) / length)
    return loop


# -- noise ---------------------------------------------------------------------------------------

#: Spectral tilt exponent: power ∝ f^-tilt (white 0, pink 1 = -3 dB/octave, brown 2 = -6 dB/octave).
_NOISE_TILT = {"white-noise": 0.0, "pink-noise": 1.0, "brown-noise": 2.0}
_NOISE_HIGHPASS_HZ = 20.0


def _noise_loops(kind: str, seed: int, sample_rate: int) -> list[np.ndarray]:
    """Two independent circular noise loops (~23.2 s and ~31.1 s, coprime), decorrelated per channel.

    Made in the frequency domain: complex Gaussian bins shaped by f^(-tilt/2) and a 4th-order
    Butterworth high-pass magnitude at 20 Hz (no DC, no rumble), then an inverse FFT — circular by construction,
    so each loop joins itself without a seam.
    """
    tilt = _NOISE_TILT[kind]
    loops = []
    for index, length in enumerate(_coprime_lengths(23.0, 31.0, sample_rate)):
        freq_hz = np.fft.rfftfreq(length, 1.0 / sample_rate)
        with np.errstate(divide="ignore"):
            ratio = freq_hz / _NOISE_HIGHPASS_HZ
            shape = ratio**4 / np.sqrt(1.0 + ratio**8) * np.where(freq_hz > 0, (freq_hz / 1000.0), 1.0) ** (-tilt / 2)
        shape[0] = 0.0
        if length % 2 == 0:
            shape[-1] = 0.0  # the Nyquist bin of an even-length real signal must be real: drop it
        shape = shape.astype(np.float32)
        bins = np.empty((2, len(shape)), dtype=np.complex64)
        for ch in range(2):
            rng = np.random.default_rng([seed, index, ch, 0x0015E])
            bins[ch].real = rng.standard_normal(len(shape), dtype=np.float32)
            bins[ch].imag = rng.standard_normal(len(shape), dtype=np.float32)
        bins *= shape
        # Single precision: 3x faster than double, and far more precise than noise needs.
        import scipy.fft

        signal = scipy.fft.irfft(bins, n=length, axis=1)
        signal /= np.sqrt(np.mean(np.square(signal, dtype=np.float64), axis=1, keepdims=True)).astype(np.float32)
        loops.append(signal.T)
    return loops
