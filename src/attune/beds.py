"""Background beds: drone, binaural tones, coloured noise, or a looped sound file.

`parse_background` turns the user's `background` value (a kind, a file, or a mapping) into a frozen
`BedSpec`, validated with the source position. `make_bed` builds a `Bed` whose `render(start, n)`
returns any stretch of an endless, deterministic bed: every bed is made of one or two precomputed
seamless loops (whole cycles / circular noise / a crossfaded file), so rendering a block is a slice
and an add. Each bed is scaled once so that it measures BED_REFERENCE_LUFS; the mixer applies
`gain_db` relative to the voice.
"""

from __future__ import annotations

import difflib
import io
import math
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import AttuneError, AudioError, SettingsError
from .ffmpeg import configure_pydub, ffmpeg_exe

#: Every bed renders at this integrated loudness (BS.1770) at gain 0.
BED_REFERENCE_LUFS = -20.0
BED_KINDS = ("none", "drone", "binaural", "pink-noise", "brown-noise", "white-noise")
#: Sound files shipped with Attune (made by audio_assets/make_assets.py); a bare file name that is
#: not found next to the script is looked up here.
ASSETS_DIR = Path(__file__).resolve().parents[2] / "audio_assets"
#: Sound-file suffixes named in messages (ffmpeg decodes more).
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac")
#: Only this much of a sound file is used (memory: 3 min of stereo float32 is 64 MB).
FILE_BED_MAX_S = 180.0
#: Equal-power crossfade that joins a file's tail to its head.
FILE_BED_CROSSFADE_S = 2.0
FILE_BED_MIN_S = 1.0

_RANGES = {
    "gain_db": (-60.0, 0.0),
    "root_hz": (40.0, 1000.0),
    "carrier_hz": (40.0, 1500.0),
    "beat_hz": (0.5, 40.0),
}
#: The mapping keys each kind accepts (besides `kind`/`file`).
_KIND_SETTINGS = {
    "drone": ("gain_db", "root_hz", "seed"),
    "binaural": ("gain_db", "carrier_hz", "beat_hz"),
    "pink-noise": ("gain_db", "seed"),
    "brown-noise": ("gain_db", "seed"),
    "white-noise": ("gain_db", "seed"),
    "file": ("gain_db",),
}
_MAPPING_KEYS = ("kind", "file", "gain_db", "root_hz", "carrier_hz", "beat_hz", "seed")


@dataclass(frozen=True)
class BedSpec:
    """A validated background bed: a synthesised kind (see BED_KINDS) or "file" with `path`."""

    kind: str
    gain_db: float = -22.0  # the bed's level relative to the voice (the mixer applies it)
    root_hz: float = 110.0  # drone
    carrier_hz: float = 200.0  # binaural: left ear
    beat_hz: float = 6.0  # binaural: right ear = carrier_hz + beat_hz
    path: Path | None = None  # file beds
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind == "none":
            raise SettingsError("background kind 'none' is not a bed", "parse_background returns None for no bed")
        if self.kind not in _KIND_SETTINGS:
            raise SettingsError(f"unknown background kind {self.kind!r}", _kinds_hint(self.kind))
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"background {name} must be a number, not {value!r}")
            if not (math.isfinite(value) and low <= value <= high):
                raise SettingsError(f"background {name} {value:g} is out of range", f"use {low:g} to {high:g}")
            object.__setattr__(self, name, float(value))  # 180 and 180.0 make equal specs
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SettingsError(f"background seed must be a whole number >= 0, not {self.seed!r}")
        if self.kind == "file" and self.path is None:
            raise SettingsError("a file background needs a path")
        if self.path is not None and not isinstance(self.path, Path):
            object.__setattr__(self, "path", Path(self.path))
        if self.kind != "file" and self.path is not None:
            raise SettingsError(f"a {self.kind} background takes no path")


class Bed(Protocol):
    """An endless background: any stretch of it, deterministically."""

    def render(self, start_frame: int, n_frames: int) -> np.ndarray:
        """Frames start_frame .. start_frame + n_frames - 1, shaped (n_frames, 2), float32: a new array,
        which the caller may modify."""
        ...


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def parse_background(value: Any, *, base_dir: Path, path: str | None = None, line: int | None = None) -> BedSpec | None:
    """Turn a `background` value into a BedSpec (or None for no bed).

    Accepts None or "none"; a kind ("drone", "pink-noise", …); a sound file path (relative paths
    resolve against `base_dir`, and a bare file name not found there is looked up in ASSETS_DIR);
    or a mapping such as `{kind: binaural, carrier_hz: 180, beat_hz: 6, gain_db: -24}` or
    `{file: rain.ogg, gain_db: -20}`. Errors carry `path`/`line` (messages read `script.yaml:7: …`):
    SettingsError for bad kinds, keys, types and ranges; AudioError for a file that is missing or
    that ffmpeg cannot decode.
    """
    try:
        return _parse(value, Path(base_dir))
    except AttuneError as exc:
        if exc.path is not None:
            raise
        raise type(exc)(exc.message, exc.hint, path=path, line=line) from None


def _parse(value: Any, base_dir: Path) -> BedSpec | None:
    if value is None:
        return None
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        kind = text.lower()
        if kind == "none":
            return None
        if kind in _KIND_SETTINGS and kind != "file":
            return BedSpec(kind=kind)
        found = _find_file(text, base_dir)
        if found is not None:
            return BedSpec(kind="file", path=found)
        if _looks_like_path(text):
            raise _missing_file(text, base_dir)
        raise SettingsError(f"unknown background {text!r}", _kinds_hint(text))
    if isinstance(value, Mapping):
        return _parse_mapping(value, base_dir)
    raise SettingsError(
        f"background must be a kind, a sound file or a mapping, not {value!r}",
        "write e.g. `background: drone`, `background: rain.ogg` or `background: {kind: drone, gain_db: -24}`",
    )


def _parse_mapping(value: Mapping, base_dir: Path) -> BedSpec | None:
    for key in value:
        if key not in _MAPPING_KEYS:
            suggestion = _closest(str(key), _MAPPING_KEYS)
            settings = ", ".join(_MAPPING_KEYS)
            hint = f"did you mean {suggestion!r}? Settings: {settings}" if suggestion else f"settings: {settings}"
            raise SettingsError(f"unknown background setting {key!r}", hint)
    for key in ("kind", "file"):
        if key in value and not isinstance(value[key], (str, Path)):
            raise SettingsError(f"background {key} must be text, not {value[key]!r}")
    kind = str(value["kind"]).strip().lower() if "kind" in value else None
    if "file" in value:
        if kind not in (None, "file"):
            raise SettingsError(f"background settings have both kind {kind!r} and a file", "keep one of them")
        kind = "file"
    if kind is None:
        raise SettingsError("background settings need a kind or a file", "e.g. {kind: drone, gain_db: -24} or {file: rain.ogg}")
    if kind == "none":
        return None
    if kind not in _KIND_SETTINGS:
        raise SettingsError(f"unknown background kind {kind!r}", _kinds_hint(kind))
    if kind == "file" and "file" not in value:
        raise SettingsError("background kind 'file' needs a file", "write {file: rain.ogg}")
    allowed = _KIND_SETTINGS[kind]
    settings: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("kind", "file"):
            continue
        if key not in allowed:
            raise SettingsError(f"background setting {key!r} does not apply to {kind}", f"{kind} takes: {', '.join(allowed)}")
        if key == "seed":
            if isinstance(item, bool) or not isinstance(item, int):
                raise SettingsError(f"background seed must be a whole number, not {item!r}")
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise SettingsError(f"background {key} must be a number, not {item!r}")
        settings[key] = item
    if kind == "file":
        text = str(value["file"]).strip()
        found = _find_file(text, base_dir)
        if found is None:
            raise _missing_file(text, base_dir)
        return BedSpec(kind="file", path=found, **settings)
    return BedSpec(kind=kind, **settings)


def _find_file(text: str, base_dir: Path) -> Path | None:
    """The existing sound file `text` names, checked by decoding its first second; None if absent."""
    if not text:
        return None
    given = Path(text).expanduser()
    candidates = [given if given.is_absolute() else base_dir / given]
    if not given.is_absolute() and len(given.parts) == 1:
        candidates.append(ASSETS_DIR / given)
    for candidate in candidates:
        if candidate.is_file():
            found = candidate.resolve()
            _decode(found, max_s=1.0, name=text)  # raises AudioError when it is not audio
            return found
    return None


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or Path(text).suffix != ""


def _missing_file(text: str, base_dir: Path) -> AudioError:
    where = f"looked in {base_dir}"
    if len(Path(text).parts) == 1:
        where += f" and {ASSETS_DIR}"
        suggestion = _closest(Path(text).name, _bundled_sounds())
        if suggestion:
            where += f"; did you mean {suggestion!r}?"
    return AudioError(f"background file {text!r} not found", where)


def _bundled_sounds() -> list[str]:
    """File names of the sounds in ASSETS_DIR."""
    if not ASSETS_DIR.is_dir():
        return []
    return sorted(p.name for p in ASSETS_DIR.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def _closest(word: str, options: tuple[str, ...] | list[str]) -> str | None:
    """The option `word` most likely meant: one it begins (`pink` → `pink-noise`), else the closest spelling."""
    word = word.strip().lower()
    prefixed = [option for option in options if word and option.startswith(word)]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _kinds_hint(word: str) -> str:
    suggestion = _closest(word, list(BED_KINDS) + _bundled_sounds())
    kinds = ", ".join(BED_KINDS)
    listing = f"use one of: {kinds}, or a sound file path"
    return f"did you mean {suggestion!r}? Otherwise {listing}" if suggestion else listing


# ---------------------------------------------------------------------------------------------
# Beds
# ---------------------------------------------------------------------------------------------

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


def make_bed(spec: BedSpec, sample_rate: int = 44100) -> Bed:
    """Build the bed `spec` describes, scaled to BED_REFERENCE_LUFS. File beds decode their file here."""
    if int(sample_rate) != sample_rate or sample_rate < 8000:
        raise ValueError(f"sample_rate must be an integer >= 8000 Hz, got {sample_rate!r}")
    sample_rate = int(sample_rate)
    if spec.kind == "drone":
        loops = _drone_loops(spec.root_hz, spec.seed, sample_rate)
    elif spec.kind == "binaural":
        loops = [_binaural_loop(spec.carrier_hz, spec.beat_hz, sample_rate)]
    elif spec.kind.endswith("-noise"):
        loops = _noise_loops(spec.kind, spec.seed, sample_rate)
    elif spec.kind == "file":
        loops = [_file_loop(spec.path, sample_rate)]
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


def _reference_gain(loops: list[np.ndarray], sample_rate: int, name: str) -> float:
    """The gain that brings the summed loops to BED_REFERENCE_LUFS, measured over the longest loop.

    Measured with attune.loudness.LoudnessMeter (validated against pyloudnorm to 0.05 LU) in
    65,536-frame chunks, so even a 3-minute file loop is measured without a second copy.
    """
    longest = max(len(loop) for loop in loops)
    frames = max(longest, 10 * sample_rate)
    from .loudness import LoudnessMeter  # scipy: imported when a bed is built, not when one is parsed

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
    best = None
    values = [1]
    for p in primes:
        grown = []
        for v in values:
            while v < 2 * target:
                grown.append(v)
                v *= p
        values = grown
    for v in values:
        if v >= target and (best is None or v < best):
            best = v
    return best


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


# -- file ----------------------------------------------------------------------------------------


def _decode(path: Path, max_s: float, name: str) -> tuple[np.ndarray, int]:
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


def _file_loop(path: Path, sample_rate: int) -> np.ndarray:
    """The first FILE_BED_MAX_S of a sound file at `sample_rate`, made into a seamless loop.

    Resampled with scipy.signal.resample_poly (polyphase, Kaiser-windowed). The loop is the file
    without its first X frames (X = crossfade, ~2 s), whose last X frames are an equal-power
    crossfade (cos/sin) from the file's tail into its head: the loop's last frame is followed by
    frame X of the file, which is exactly where the head fade-in ended — no jump at the seam.
    """
    import scipy.signal

    audio, file_rate = _decode(path, FILE_BED_MAX_S, path.name)
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
