"""`--rate` means the same pace in every engine: each neural voice's pace is measured once and remembered.

pyttsx3 on espeak-ng is the reference: it speaks `SPOKEN_WPM_PER_RATE_WPM` words per minute of spoken
span for each `--rate` word per minute. Every other engine has a tempo knob (Piper's `length_scale`,
hibari's and SVOX Pico's `speed`), written here as a scale (bigger: slower; a speed is 1 / scale). A
voice's pace is measured at a few scales on `PACE_TEXTS` (words per minute of spoken span, the same
measure for every engine), kept in the speech cache (`speech/<engine>-pace.json`), and a rate is read
off that curve (`scale_for_pace`). The voices inside pip packages come measured (`pace_table`). hibari's speed moves its pace in steps (each phoneme lasts whole
frames, so a small change of speed moves many phonemes at once, up to 25%): its pace is measured in
the middle of its steps, and the nearest is stretched the rest of the way (`step_for_pace`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from ...errors import OutputError, SpeechError
from ...script.text import count_words
from ...system.atomic import write_text

#: pyttsx3 on espeak-ng speaks 1.221 words per minute of spoken span for each `--rate` word per minute
#: (measured with espeakng-loader 0.2.4's espeak-ng, voice `gmw/en`, on PACE_TEXTS: 121.9, 171.7 and
#: 243.6 at 100, 140 and 200 wpm; within 0.5% of this at each). Every engine is set to the same spoken
#: pace, so `--rate 140` sounds as fast in each.
SPOKEN_WPM_PER_RATE_WPM = 1.221
#: The sentences a voice's natural pace is measured on: 100 words of calm instruction, long and short.
#: Engines differ in how they pace a sentence (a comma's pause, a short line's ending, by about 8% per
#: sentence), so the passage must be like a practice, not like one sentence: these ten were chosen from
#: 40 of meditation instruction so that every engine's pace against espeak-ng's on them is its pace on
#: all 40 (within 0.4% for Piper's joe, hibari's heart and Pico's en-US at 100, 140 and 200 wpm; the six
#: sentences used before were 4.4% off for joe). Sentences the tests and benches hold out are not here.
PACE_TEXTS = (
    "Take a moment to arrive here.",
    "Now move your awareness slowly up through the legs.",
    "You might notice tingling, warmth, or perhaps nothing at all.",
    "Gently widen your attention to include the whole body, breathing.",
    "Let the breath find its own rhythm, without any effort from you.",
    "Notice the small pause at the end of each out-breath.",
    "Relax the muscles around the eyes, the cheeks, and the mouth.",
    "As you breathe in, imagine the breath filling the chest with light.",
    "Slowly bring some movement back into the fingers and toes.",
    "Now let go of any technique, and simply sit.",
)
PACE_WORDS = sum(count_words(t) for t in PACE_TEXTS)


def scale_for_pace(curve: Sequence[tuple[float, float]], target_wpm: float) -> float:
    """The scale at which a voice with the measured `curve` ((scale, wpm) points) speaks at
    `target_wpm`: linear in log(scale) against log(wpm) between neighbouring points, and along the
    nearest end segment outside them."""
    points = sorted((math.log(a), math.log(b)) for a, b in curve)
    y = math.log(target_wpm)
    segments = list(itertools.pairwise(points))
    # Pace falls as the scale grows: the segment whose pace range holds the target, else the end one.
    chosen = next(((p, q) for p, q in segments if q[1] <= y <= p[1]), segments[0] if y > points[0][1] else segments[-1])
    (x0, y0), (x1, y1) = chosen
    if y1 == y0:
        return math.exp(x0)
    return math.exp(x0 + (y - y0) * (x1 - x0) / (y1 - y0))


def step_for_pace(curve: Sequence[tuple[float, float]], target_wpm: float) -> tuple[float, float]:
    """For an engine whose tempo knob moves the pace in steps (hibari): the measured (scale, wpm)
    point nearest `target_wpm` (in log pace), and the time stretch that takes it there (the factor
    its frames are lengthened by: above 1 slower, below 1 faster)."""
    scale, wpm = min(curve, key=lambda point: abs(math.log(point[1] / target_wpm)))
    return scale, wpm / target_wpm


def target_spoken_wpm(rate_wpm: float) -> float:
    """The spoken pace (words per minute of spoken span) that `--rate rate_wpm` means."""
    return rate_wpm * SPOKEN_WPM_PER_RATE_WPM


def wpm_of(spoken_s: Sequence[float], what: str) -> float:
    """Words per minute of spoken span of PACE_TEXTS, from each text's spoken seconds."""
    total_s = sum(float(s) for s in spoken_s)
    if total_s <= 0:
        raise SpeechError(f"{what} spoke nothing while its pace was measured", "run `attune doctor`")
    return PACE_WORDS * 60.0 / total_s


def spoken_wpm(cache, voice, texts: Sequence[str]) -> float:
    """Words per minute of spoken span of `texts` as `cache` (a SpeechCache) speaks them with `voice`:
    the clips a render lays out, each measured from its first to its last sounding window. The
    measure the benches and tests hold every engine to."""
    from ...timebase import SAMPLE_RATE
    from ..clips import spoken_span_s

    keys = cache.ensure(list(texts), voice)
    spoken_s = sum(spoken_span_s(cache.load(keys[text]), SAMPLE_RATE) for text in dict.fromkeys(texts))
    return sum(count_words(text) for text in dict.fromkeys(texts)) * 60.0 / spoken_s


@contextlib.contextmanager
def _pace_file_lock(path: Path) -> Iterator[None]:
    """One process at a time measures a voice's pace (a batch's workers start together); best effort."""
    try:
        import fcntl
    except ImportError:  # Windows: each process may measure; the results agree
        yield
        return
    handle = None
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a")  # noqa: SIM115 - closed below
        fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


def _measure_all(scales: Sequence[float], measure: Callable[[float], float], parallelism: int, abort: Callable[[], None] | None) -> tuple[tuple[float, float], ...]:
    """(scale, measure(scale)) at every scale, `parallelism` at once. On the first failure (or Ctrl-C)
    the scales not begun are dropped and `abort()` stops the ones running, so this returns at once."""
    pool = concurrent.futures.ThreadPoolExecutor(max(1, min(len(scales), parallelism)), thread_name_prefix="attune-pace")
    try:
        return tuple(zip(scales, pool.map(measure, scales)))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        if abort is not None:
            abort()
        raise
    finally:
        pool.shutdown(wait=True)


class PaceStore:
    """Pace curves by voice key, in memory and in one JSON file of the speech cache."""

    def __init__(self, path: Path, known: Mapping[str, Sequence[Sequence[float]]] | None = None):
        self.path = Path(path)
        #: Curves measured before shipping (`attune.speech.engines.pace_table`), used before the file.
        self._known = dict(known or {})
        self._curves: dict[str, tuple[tuple[float, float], ...]] = {}
        self._lock = threading.Lock()

    def curve(
        self, key: str, scales: Sequence[float], measure: Callable[[float], float], parallelism: int = 1, abort: Callable[[], None] | None = None
    ) -> tuple[tuple[float, float], ...]:
        """The (scale, wpm) curve of `key`: remembered, else read from the file, else measured with
        `measure(scale) -> wpm` at every scale (as many at once as `parallelism`) and stored. On a
        failure or an interrupt, `abort()` stops the measurements still running (`_measure_all`)."""
        with self._lock:
            if key in self._curves or self._take(key, self._known.get(key)) or self._read(key):
                return self._curves[key]
            with _pace_file_lock(self.path):
                if not self._read(key):  # another process may have measured it meanwhile
                    curve = _measure_all(scales, measure, parallelism, abort)
                    self._curves[key] = curve
                    stored = {**self._stored(), key: [[round(a, 4), round(b, 3)] for a, b in curve]}
                    with contextlib.suppress(OSError, OutputError):  # a read-only cache measures again next time
                        write_text(self.path, json.dumps(stored, indent=1, sort_keys=True))
            return self._curves[key]

    def _stored(self) -> dict:
        with contextlib.suppress(OSError, ValueError):
            stored = json.loads(self.path.read_text("utf-8"))
            if isinstance(stored, dict):
                return stored
        return {}

    def _read(self, key: str) -> bool:
        """Take the curve of `key` from the file, if it is there."""
        return self._take(key, self._stored().get(key))

    def _take(self, key: str, points: object) -> bool:
        """Remember `points` as the curve of `key` if they are one ((scale, wpm) pairs, two or more)."""
        with contextlib.suppress(TypeError, ValueError):
            curve = tuple((float(a), float(b)) for a, b in points or ())  # type: ignore[attr-defined]
            if len(curve) >= 2 and all(a > 0 and b > 0 for a, b in curve):
                self._curves[key] = curve
                return True
        return False
