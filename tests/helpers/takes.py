"""Takes built in code, where every sentence's place is known: a real engine reads the sentences,
they are laid out with pauses (and a false start before a retake), then a phone's faults are added
(`helpers.faults.phone_take`: hum, clicks, room tone, rumble, about -30 LUFS) and the take is encoded
by ffmpeg in the format its suffix names.

    take = build_take(SENTENCES, tmp_path / "take.ogg", cache_dir=shared_engine_cache, retake=1)
    take.truth[0]  # (text, start_s, end_s): where the speech of sentence 0 really is
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.speech.cache import SpeechCache
from attune.speech.engines import create_synthesizer
from attune.system.ffmpeg import ffmpeg_exe
from attune.timebase import SAMPLE_RATE
from helpers.faults import phone_take

#: The pauses between sentences, in turn (a teacher's are uneven).
GAPS_S = (1.1, 1.6, 0.9, 2.2, 1.3)
_ACTIVE_DBFS = -50.0


@dataclass(frozen=True)
class BuiltTake:
    path: Path
    #: (text, start_s, end_s) of each sentence's kept reading, in take order (only the last of a retake).
    truth: tuple[tuple[str, float, float], ...]
    #: Where the false start is (start_s, end_s), if there is one.
    false_start: tuple[float, float] | None
    duration_s: float


def speech_span(clip: np.ndarray, rate_hz: int = SAMPLE_RATE) -> tuple[int, int]:
    """First and last sample of the 10 ms windows over -50 dBFS: where the speech really is."""
    w = rate_hz // 100
    rms = np.sqrt(np.mean(clip[: clip.size // w * w].astype(np.float64).reshape(-1, w) ** 2, axis=1))
    active = np.flatnonzero(rms > 10 ** (_ACTIVE_DBFS / 20))
    return int(active[0] * w), int((active[-1] + 1) * w)


def spoken_clips(sentences: Sequence[str], cache_dir: Path, engine: str = "pyttsx3", rate_wpm: float = 140.0) -> list[np.ndarray]:
    synth = create_synthesizer(engine, cache_dir=cache_dir)
    try:
        cache = SpeechCache(synth, cache_dir)
        voice = cache.voice_settings(None, rate_wpm, language="en")
        keys = cache.ensure(sentences, voice)
        return [cache.load(keys[s]).astype(np.float64) for s in sentences]
    finally:
        synth.close()


def assemble(
    clips: Sequence[np.ndarray], sentences: Sequence[str], *, retake: int | None = None, lead_s: float = 1.0, tail_s: float = 1.5,
    gaps_s: Sequence[float] = GAPS_S, false_start_share: float = 0.45, retake_gap_s: float = 0.9,
):  # fmt: skip
    """The clean take: lead, then each clip after its pause (`gaps_s` in turn); before sentence `retake`,
    a false start (its first `false_start_share`, faded out over 20 ms) and a pause of `retake_gap_s`.
    Returns (samples, truth, false_start)."""
    rate = SAMPLE_RATE
    parts: list[np.ndarray] = [np.zeros(round(lead_s * rate))]
    at = parts[0].size
    truth = []
    false_start = None
    for i, (clip, text) in enumerate(zip(clips, sentences)):
        if i:
            gap = np.zeros(round(gaps_s[i % len(gaps_s)] * rate))
            parts.append(gap)
            at += gap.size
        if i == retake:
            cut = clip[: int(clip.size * false_start_share)].copy()
            fade = round(0.02 * rate)
            cut[-fade:] *= np.linspace(1.0, 0.0, fade)
            a, b = speech_span(cut)
            false_start = ((at + a) / rate, (at + b) / rate)
            parts += [cut, np.zeros(round(retake_gap_s * rate))]
            at += cut.size + round(retake_gap_s * rate)
        a, b = speech_span(clip)
        truth.append((text, (at + a) / rate, (at + b) / rate))
        parts.append(clip)
        at += clip.size
    parts.append(np.zeros(round(tail_s * rate)))
    return np.concatenate(parts), tuple(truth), false_start


def encode(samples: np.ndarray, rate_hz: int, path: Path, *, stereo: bool = False) -> Path:
    """Write mono float `samples` to `path` with ffmpeg (format from the suffix; stereo duplicates the channel)."""
    data = np.asarray(samples, dtype="<f4")
    channels = 1
    if stereo:
        data, channels = np.repeat(data, 2), 2
    argv = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(rate_hz), "-ac", str(channels), "-i", "-"]
    if path.suffix in (".ogg", ".opus"):
        argv += ["-c:a", "libopus", "-b:a", "48k"]
    elif path.suffix == ".wav":
        argv += ["-c:a", "pcm_s16le"]
    argv.append(str(path))
    subprocess.run(argv, input=data.tobytes(), check=True, timeout=120)
    return path


def build_take(
    sentences: Sequence[str], path: Path, *, cache_dir: Path, engine: str = "pyttsx3", retake: int | None = None, omit: Sequence[int] = (),
    rate_hz: int = SAMPLE_RATE, lufs: float = -30.0, stereo: bool = False, seed: int = 0, rate_wpm: float = 140.0,
    layout: Mapping[str, Any] | None = None, faults: Mapping[str, Any] | None = None,
) -> BuiltTake:  # fmt: skip
    """A faulty take of `sentences` (less those in `omit`) at `path`; `retake`: the sentence read twice.
    `layout`: `assemble`'s pauses and false start; `faults`: `phone_take`'s, over its defaults here."""
    kept = [s for i, s in enumerate(sentences) if i not in omit]
    clips = spoken_clips(kept, cache_dir, engine, rate_wpm)
    clean, truth, false_start = assemble(clips, kept, retake=kept.index(sentences[retake]) if retake is not None else None, **(layout or {}))
    fault_args = {"hum_hz": 50.0, "hum_db": -25.0, "snr_db": 25.0, "clicks": 3, **(faults or {})}
    faulty = phone_take(clean, SAMPLE_RATE, lufs=lufs, seed=seed, **fault_args).samples
    if rate_hz != SAMPLE_RATE:
        from scipy.signal import resample_poly

        faulty = resample_poly(faulty, rate_hz, SAMPLE_RATE)
    encode(faulty, rate_hz, path, stereo=stereo)
    return BuiltTake(path, truth, false_start, clean.size / SAMPLE_RATE)


def practice_sentences() -> list[str]:
    """Every distinct sentence of the built-in practices, in order (real instructions, as a teacher reads them)."""
    from attune.library import PRACTICES_DIR
    from attune.plan import section_sentences
    from attune.script import load_script

    out: dict[str, None] = {}
    for path in sorted(PRACTICES_DIR.iterdir()):
        for section in load_script(path, {}).sections:
            out.update(dict.fromkeys(section_sentences(section)))
    return list(out)


@dataclass(frozen=True)
class StressTake:
    """One take of the stress set: who reads it, how fast, which sentence is retaken and how."""

    name: str
    engine: str
    rate_wpm: float
    sentences: tuple[str, ...]
    retake: int
    layout: Mapping[str, Any]
    faults: Mapping[str, Any]
    seed: int


def stress_set(count: int = 12, per_take: int = 7, seed: int = 23) -> list[StressTake]:
    """Takes that are hard to align: espeak-ng and Piper's joe at 110, 170 and 200 words a minute, each
    with a retake (a false start of a quarter to two thirds of the sentence, 0.4–1.2 s before the
    reading again), short and uneven pauses, hum at 50 or 60 Hz, clicks, room tone at 15–25 dB SNR,
    rumble, -30 LUFS. `count` takes of `per_take` sentences of the built-in practices, none twice."""
    pool = practice_sentences()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    takes = []
    for k in range(count):
        engine = ("pyttsx3", "piper")[k % 2]
        rate = (110.0, 170.0, 200.0)[(k // 2) % 3]
        chosen = tuple(pool[i] for i in order[k * per_take : (k + 1) * per_take])
        layout = {
            "gaps_s": tuple(float(g) for g in rng.uniform(0.45, 1.8, per_take)),
            "false_start_share": float(rng.uniform(0.25, 0.65)),
            "retake_gap_s": float(rng.uniform(0.4, 1.2)),
        }
        faults = {
            "hum_hz": (50.0, 60.0)[k % 2 ^ (k // 6)], "hum_db": float(rng.uniform(-30, -20)), "snr_db": float(rng.uniform(15, 25)),
            "clicks": int(rng.integers(2, 6)), "rumble_db": float(rng.uniform(-25, -15)),
        }  # fmt: skip
        takes.append(StressTake(f"{engine}-{rate:.0f}wpm-{k}", engine, rate, chosen, int(rng.integers(1, per_take)), layout, faults, seed * 100 + k))
    return takes


def build_stress_take(take: StressTake, path: Path, cache_dir: Path) -> BuiltTake:
    return build_take(take.sentences, path, cache_dir=cache_dir, engine=take.engine, retake=take.retake, rate_wpm=take.rate_wpm,
                      layout=take.layout, faults=take.faults, seed=take.seed)  # fmt: skip
