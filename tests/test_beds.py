"""attune.beds: parsing `background`, and the beds themselves (shape, determinism, random access, sound)."""

from __future__ import annotations

import functools
import wave
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.signal

from attune.audio import sound_file
from attune.audio.background import BED_KINDS, BedSpec, parse_background
from attune.audio.beds import BED_REFERENCE_LUFS, make_bed
from attune.errors import AudioError, SettingsError
from attune.library import SOUNDS_DIR
from helpers.audio import rms_dbfs, spectrum_peaks

SR = 44100
SYNTH_KINDS = [k for k in BED_KINDS if k != "none"]
KINDS_HINT = "use one of: none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file path"


@functools.cache
def bed(kind: str, **settings):
    return make_bed(BedSpec(kind, **settings), SR)


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    audio = np.atleast_2d(audio.T).T
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(audio.shape[1])
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path


# -- every kind ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", SYNTH_KINDS)
def test_render_shape_determinism_and_random_access(kind):
    b = bed(kind)
    block = b.render(123_456, 65_536)
    assert block.shape == (65_536, 2) and block.dtype == np.float32
    assert np.array_equal(make_bed(BedSpec(kind), SR).render(123_456, 65_536), block)  # rebuilt: same samples
    # Random access: rows a.. of render(0, a + n), across each loop's wrap, and longer than one slice.
    for a in [0, 1, 44_099, *(length - 10 for length in b.loop_frames)]:
        assert np.array_equal(b.render(a, 5000), b.render(0, a + 5000)[a:]), a
    assert np.array_equal(b.render(7, 300_000), b.render(0, 300_007)[7:])
    assert b.render(5, 0).shape == (0, 2)
    block[:] = 0  # a new array: the caller may scribble on it
    assert np.abs(b.render(123_456, 10)).max() > 0


@pytest.mark.parametrize("kind", SYNTH_KINDS)
def test_loudness_is_the_reference(kind):
    x = bed(kind).render(0, 32 * SR).astype(np.float64)
    assert pyloudnorm.Meter(SR).integrated_loudness(x) == pytest.approx(BED_REFERENCE_LUFS, abs=0.3)
    assert np.abs(x).max() < 0.9


# -- binaural --------------------------------------------------------------------------------------

@pytest.mark.parametrize("carrier_hz, beat_hz", [(200.0, 6.0), (180.0, 7.5), (432.0, 7.83)])
def test_binaural_left_carrier_right_carrier_plus_beat(carrier_hz, beat_hz):
    x = bed("binaural", carrier_hz=carrier_hz, beat_hz=beat_hz).render(SR, 20 * SR)
    (left_hz, _), = spectrum_peaks(x[:, 0], SR, n=1)
    (right_hz, _), = spectrum_peaks(x[:, 1], SR, n=1)
    assert left_hz == pytest.approx(carrier_hz, abs=0.03)
    assert right_hz == pytest.approx(carrier_hz + beat_hz, abs=0.03)
    assert right_hz - left_hz == pytest.approx(beat_hz, abs=0.03)
    # Each ear hears one tone only: the other ear's frequency is absent (< -60 dB).
    spectrum = np.abs(np.fft.rfft(x[:, 0] * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    near_right = np.abs(freqs - (carrier_hz + beat_hz)) < 0.5
    assert 20 * np.log10(spectrum[near_right].max() / spectrum.max()) < -60


# -- noise -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, slope_db_per_octave", [("white-noise", 0.0), ("pink-noise", -3.01), ("brown-noise", -6.02)])
def test_noise_spectral_slope(kind, slope_db_per_octave):
    x = bed(kind).render(0, 30 * SR)
    freqs, power = scipy.signal.welch(x[:, 0], SR, nperseg=1 << 14)
    band = (freqs > 100) & (freqs < 10_000)
    slope = np.polyfit(np.log2(freqs[band]), 10 * np.log10(power[band]), 1)[0]
    assert slope == pytest.approx(slope_db_per_octave, abs=0.3)
    # Decorrelated channels, and no rumble: 10 Hz is well under 40 Hz even for brown noise.
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.05
    level = lambda hz: power[np.argmin(np.abs(freqs - hz))]  # noqa: E731
    assert 10 * np.log10(level(10) / level(40)) < -6


def test_noise_seed_changes_the_noise_not_its_colour():
    a = bed("pink-noise").render(0, SR)
    b = bed("pink-noise", seed=1).render(0, SR)
    assert not np.array_equal(a, b)
    assert rms_dbfs(a) == pytest.approx(rms_dbfs(b), abs=0.5)


def test_noise_loops_are_coprime_and_about_23_and_31_seconds():
    lengths = bed("pink-noise").loop_frames
    assert np.gcd(*lengths) == 1
    assert [round(n / SR) for n in lengths] == [23, 31]


# -- drone -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("root_hz", [110.0, 55.0, 196.0])
def test_drone_energy_sits_at_the_root(root_hz):
    x = bed("drone", root_hz=root_hz).render(0, 20 * SR)
    peaks = spectrum_peaks(x, SR, n=3)
    assert peaks[0][0] == pytest.approx(root_hz, abs=1.0)  # strongest: the root
    spectrum = np.abs(np.fft.rfft(x[:, 0])) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    assert spectrum[np.abs(freqs - root_hz) < 2].sum() > 0.5 * spectrum.sum()


def test_drone_evolves_slowly_never_abruptly():
    x = bed("drone").render(0, 120 * SR)
    window = SR // 2
    levels = np.array([rms_dbfs(x[i:i + window]) for i in range(0, len(x), window)])
    assert levels.max() - levels.min() > 2.0  # it moves…
    assert np.abs(np.diff(levels)).max() < 2.0  # …gently
    left, right = x[:, 0], x[:, 1]
    assert 0.8 < np.corrcoef(left, right)[0, 1] < 0.999  # a slight stereo difference


# -- file beds ---------------------------------------------------------------------------------------

def test_file_bed_loops_without_a_seam(tmp_path):
    # 5 s at 48 kHz (resampled to 44.1 kHz): a 3.45 Hz swell + 443.3 Hz tone + a little noise, which
    # a naive loop would break with a jump (the file ends a quarter of the way into a swell).
    t = np.arange(5 * 48000) / 48000
    rng = np.random.default_rng(0)
    signal = 0.4 * np.sin(2 * np.pi * 3.45 * t) + 0.2 * np.sin(2 * np.pi * 443.3 * t) + 0.01 * rng.standard_normal(len(t))
    path = write_wav(tmp_path / "swell.wav", np.stack([signal, signal * 0.9], 1), 48000)
    spec = parse_background(str(path), base_dir=tmp_path)
    b = make_bed(spec, SR)
    (loop,) = b.loop_frames
    fade = round(1.25 * SR)  # min(2 s, a quarter of the file)
    assert loop == 5 * SR - fade
    x = b.render(0, 3 * loop)
    jumps = np.abs(np.diff(x[:, 0]))
    ordinary = np.percentile(jumps, 99.9)
    for seam in (loop, 2 * loop):
        assert jumps[seam - 3:seam + 2].max() < 1.5 * ordinary
    naive = np.abs(signal[-1] - signal[0]) * 10 ** ((BED_REFERENCE_LUFS - pyloudnorm.Meter(48000).integrated_loudness(signal)) / 20)
    assert naive > 5 * ordinary  # the seam test can fail: a plain loop would jump here
    assert pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64)) == pytest.approx(BED_REFERENCE_LUFS, abs=0.3)
    assert np.array_equal(b.render(loop - 50, 100), x[loop - 50:loop + 50])


def test_file_bed_mono_becomes_stereo_and_long_files_are_cut(tmp_path, monkeypatch):
    t = np.arange(4 * SR) / SR
    path = write_wav(tmp_path / "mono.wav", 0.3 * np.sin(2 * np.pi * 300 * t), SR)
    monkeypatch.setattr(sound_file, "FILE_BED_MAX_S", 3.0)
    b = make_bed(parse_background(str(path), base_dir=tmp_path), SR)
    x = b.render(0, SR)
    assert np.array_equal(x[:, 0], x[:, 1])
    assert b.loop_frames == (3 * SR - round(0.75 * SR),)


def test_bundled_rain_is_a_usable_bed():
    spec = parse_background("soft-rain.ogg", base_dir=Path("/nonexistent"))
    assert spec == BedSpec("file", path=SOUNDS_DIR / "soft-rain.ogg")
    x = make_bed(spec, SR).render(0, 10 * SR)
    assert pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64)) == pytest.approx(BED_REFERENCE_LUFS, abs=0.5)


def test_short_and_silent_files_are_refused(tmp_path):
    short = write_wav(tmp_path / "blip.wav", np.full(SR // 2, 0.1), SR)
    with pytest.raises(AudioError) as err:
        make_bed(BedSpec("file", path=short), SR)
    assert str(err.value) == "background file 'blip.wav' is only 0.50 s long — use a sound of at least 1 s"
    silent = write_wav(tmp_path / "hush.wav", np.zeros(2 * SR), SR)
    with pytest.raises(AudioError) as err:
        make_bed(BedSpec("file", path=silent), SR)
    assert str(err.value) == "background 'hush.wav' is silent — use a sound that is audible"


# -- parse_background ------------------------------------------------------------------------------

def test_parse_kinds_files_and_mappings(tmp_path):
    assert parse_background(None, base_dir=tmp_path) is None
    assert parse_background("none", base_dir=tmp_path) is None
    assert parse_background("Pink-Noise", base_dir=tmp_path) == BedSpec("pink-noise")
    assert parse_background({"kind": "binaural", "carrier_hz": 180, "beat_hz": 6, "gain_db": -24}, base_dir=tmp_path) == \
        BedSpec("binaural", carrier_hz=180.0, beat_hz=6.0, gain_db=-24.0)
    assert parse_background({"kind": "none"}, base_dir=tmp_path) is None
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    rain = write_wav(sounds / "rain.wav", 0.1 * np.ones(SR), SR)
    assert parse_background("sounds/rain.wav", base_dir=tmp_path) == BedSpec("file", path=rain.resolve())
    assert parse_background({"file": "sounds/rain.wav", "gain_db": -20}, base_dir=tmp_path) == \
        BedSpec("file", path=rain.resolve(), gain_db=-20.0)
    assert parse_background(str(rain), base_dir=Path("/")) == BedSpec("file", path=rain.resolve())


@pytest.mark.parametrize("value, message", [
    ("drnoe", f"script.yaml:7: unknown background 'drnoe' — did you mean 'drone'? Otherwise {KINDS_HINT}"),
    ("pink", f"script.yaml:7: unknown background 'pink' — did you mean 'pink-noise'? Otherwise {KINDS_HINT}"),
    ("soft-rain", f"script.yaml:7: unknown background 'soft-rain' — did you mean 'soft-rain.ogg'? Otherwise {KINDS_HINT}"),
    ("ocean", f"script.yaml:7: unknown background 'ocean' — {KINDS_HINT}"),
    ({"kind": "binaural", "beat": 3}, "script.yaml:7: unknown background setting 'beat' — did you mean 'beat_hz'? "
     "Settings: kind, file, gain_db, root_hz, carrier_hz, beat_hz, seed"),
    ({"kind": "drone", "beat_hz": 3}, "script.yaml:7: background setting 'beat_hz' does not apply to drone — drone takes: gain_db, root_hz, seed"),
    ({"kind": "drone", "gain_db": "loud"}, "script.yaml:7: background gain_db must be a number, not 'loud'"),
    ({"kind": "drone", "gain_db": True}, "script.yaml:7: background gain_db must be a number, not True"),
    ({"kind": "drone", "gain_db": 5}, "script.yaml:7: background gain_db 5 is out of range — use -60 to 0"),
    ({"kind": "drone", "root_hz": 20}, "script.yaml:7: background root_hz 20 is out of range — use 40 to 1000"),
    ({"kind": "binaural", "beat_hz": 45}, "script.yaml:7: background beat_hz 45 is out of range — use 0.5 to 40"),
    ({"kind": "binaural", "carrier_hz": 2000}, "script.yaml:7: background carrier_hz 2000 is out of range — use 40 to 1500"),
    ({"kind": "pink-noise", "seed": 1.5}, "script.yaml:7: background seed must be a whole number, not 1.5"),
    ({"kind": 3}, "script.yaml:7: background kind must be text, not 3"),
    ({"gain_db": -20}, "script.yaml:7: background settings need a kind or a file — e.g. {kind: drone, gain_db: -24} or {file: rain.ogg}"),
    ({"kind": "drone", "file": "a.wav"}, "script.yaml:7: background settings have both kind 'drone' and a file — keep one of them"),
    ({"kind": "file"}, "script.yaml:7: background kind 'file' needs a file — write {file: rain.ogg}"),
    ({"kind": "rain"}, f"script.yaml:7: unknown background kind 'rain' — {KINDS_HINT}"),
    (42, "script.yaml:7: background must be a kind, a sound file or a mapping, not 42 — write e.g. `background: drone`, "
     "`background: rain.ogg` or `background: {kind: drone, gain_db: -24}`"),
])
def test_parse_errors_have_exact_text(tmp_path, value, message):
    with pytest.raises(SettingsError) as err:
        parse_background(value, base_dir=tmp_path, path="script.yaml", line=7)
    assert str(err.value) == message
    assert (err.value.path, err.value.line) == ("script.yaml", 7)


def test_missing_and_undecodable_files_are_audio_errors(tmp_path):
    with pytest.raises(AudioError) as err:
        parse_background("rain.ogg", base_dir=tmp_path, path="s.yaml", line=3)
    assert str(err.value) == f"s.yaml:3: background file 'rain.ogg' not found — looked in {tmp_path} and {SOUNDS_DIR}; did you mean 'soft-rain.ogg'?"
    with pytest.raises(AudioError) as err:
        parse_background({"file": "sub/rain.wav"}, base_dir=tmp_path)
    assert str(err.value) == f"background file 'sub/rain.wav' not found — looked in {tmp_path}"
    (tmp_path / "notes.mp3").write_text("these are words, not sound\n" * 20)
    with pytest.raises(AudioError) as err:
        parse_background("notes.mp3", base_dir=tmp_path, path="s.yaml", line=4)
    assert str(err.value).startswith("s.yaml:4: background file 'notes.mp3' is not a sound file ffmpeg can decode — "
                                     "use a WAV, MP3, OGG or FLAC file (ffmpeg: ")


def test_bedspec_validates_at_construction():
    with pytest.raises(SettingsError, match="^background root_hz 20 is out of range — use 40 to 1000$"):
        BedSpec("drone", root_hz=20)
    with pytest.raises(SettingsError, match="^a file background needs a path$"):
        BedSpec("file")
    with pytest.raises(SettingsError, match="^a drone background takes no path$"):
        BedSpec("drone", path=Path("x.wav"))
    with pytest.raises(SettingsError, match="^background kind 'none' is not a bed — parse_background returns None for no bed$"):
        BedSpec("none")
    with pytest.raises(SettingsError, match="^background gain_db nan is out of range"):
        BedSpec("drone", gain_db=float("nan"))
