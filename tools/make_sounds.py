"""Regenerate every bundled sound in src/attune/sounds/, deterministically (no downloads).

    python tools/make_sounds.py            # rewrite the bundled files
    python tools/make_sounds.py --out DIR  # write them somewhere else (the tests do)

- singing-bowl.flac: `attune.bells.bell_strike()` (7 s, 44.1 kHz stereo, 16-bit FLAC).
- soft-rain.ogg: 24 s of synthesised rain (filtered noise, seeded droplets, slow swells), a
  seamless loop peaking at -6 dBFS, 44.1 kHz stereo Ogg Vorbis (quality 3, ~120 kbit/s).

Both are encoded by the ffmpeg Attune uses (`attune.ffmpeg.ffmpeg_exe()`) with bit-exact flags,
so the same ffmpeg build reproduces the same bytes; the samples fed to it are identical on every
machine (float64 numpy, fixed seeds, rounded to 16 bits here rather than by ffmpeg).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

from attune.audio.bells import bell_strike
from attune.library import SOUNDS_DIR
from attune.system.ffmpeg import ffmpeg_exe

SAMPLE_RATE = 44100
RAIN_DURATION_S = 24.0
RAIN_SEED = 20240611
#: ffmpeg flags that keep version strings, random Ogg serial numbers and dates out of the files.
BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


def to_int16(audio: np.ndarray) -> bytes:
    """Round float samples (full scale 1.0) to interleaved little-endian 16-bit PCM."""
    scaled = np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32767.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


def encode(pcm: bytes, out_path: Path, codec_args: list[str]) -> None:
    """Encode 44.1 kHz stereo s16le `pcm` to `out_path` with ffmpeg."""
    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "2", "-i", "-",
        *codec_args, *BITEXACT, str(out_path),
    ]  # fmt: skip
    subprocess.run(command, input=pcm, check=True, capture_output=True, timeout=120)


def soft_rain(sample_rate: int = SAMPLE_RATE, duration_s: float = RAIN_DURATION_S, seed: int = RAIN_SEED) -> np.ndarray:
    """Soft rain as a seamless loop, (frames, 2) float64: everything is circular in the loop.

    - a hiss: Gaussian noise shaped in the frequency domain (a broad hump around 2-3 kHz, gentle
      roll-off above 8 kHz, nothing below 150 Hz), decorrelated per channel;
    - droplets: a seeded Poisson train of tiny clicks (~140 per second, exponential sizes capped at 2.5x the mean), each a
      3 ms burst of noise, applied by circular convolution (FFT) so the loop stays seamless;
    - slow gentle swells: 1 + 0.12 cos + 0.06 cos at 2 and 3 cycles per loop (12 s and 8 s).
    """
    frames = round(duration_s * sample_rate)
    rng = np.random.default_rng(seed)
    freq_hz = np.fft.rfftfreq(frames, 1.0 / sample_rate)
    with np.errstate(divide="ignore"):
        low_cut = (freq_hz / 150.0) ** 4 / (1.0 + (freq_hz / 150.0) ** 4)
        hump = 1.0 / (1.0 + (np.log2(np.maximum(freq_hz, 1.0) / 2500.0) / 1.6) ** 2)
        high_cut = 1.0 / np.sqrt(1.0 + (freq_hz / 8000.0) ** 4)
    hiss_shape = low_cut * (0.35 + hump) * high_cut
    hiss_shape[0] = 0.0

    kernel_frames = round(0.003 * sample_rate)
    kernel = rng.standard_normal(kernel_frames) * np.exp(-np.arange(kernel_frames) / (0.0008 * sample_rate))
    kernel -= kernel.mean()  # no DC in a droplet
    kernel_spectrum = np.fft.rfft(kernel, n=frames) * high_cut

    n = np.arange(frames)
    swell = 1.0 + 0.12 * np.cos(2 * np.pi * 2 * n / frames + 0.7) + 0.06 * np.cos(2 * np.pi * 3 * n / frames + 2.1)

    out = np.empty((frames, 2))
    for ch in range(2):
        bins = rng.standard_normal(len(freq_hz)) + 1j * rng.standard_normal(len(freq_hz))
        hiss = np.fft.irfft(bins * hiss_shape, n=frames)
        hiss /= np.sqrt(np.mean(hiss**2))
        drops = np.zeros(frames)
        count = rng.poisson(140 * duration_s)
        where = rng.integers(0, frames, size=count)
        sizes = np.minimum(rng.exponential(1.0, size=count), 2.5)  # soft rain: no big splashes
        np.add.at(drops, where, sizes * rng.choice([-1.0, 1.0], size=count))
        patter = np.fft.irfft(np.fft.rfft(drops) * kernel_spectrum, n=frames)
        patter /= np.sqrt(np.mean(patter**2))
        out[:, ch] = (hiss + 0.45 * patter) * swell
    # Peak at -6 dBFS (about -20 LUFS): headroom for the droplets' peaks and the Vorbis encoder.
    out *= 0.5 / np.abs(out).max()
    return out


def make_assets(out_dir: Path = SOUNDS_DIR) -> list[Path]:
    """Write every asset into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bowl = out_dir / "singing-bowl.flac"
    encode(to_int16(bell_strike(SAMPLE_RATE)), bowl, ["-c:a", "flac", "-compression_level", "8"])
    rain = out_dir / "soft-rain.ogg"
    encode(to_int16(soft_rain()), rain, ["-c:a", "libvorbis", "-q:a", "3"])
    return [bowl, rain]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SOUNDS_DIR, help="folder to write into (default: src/attune/sounds/)")
    args = parser.parse_args(argv)
    for path in make_assets(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
