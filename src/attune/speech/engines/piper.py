"""The Piper engine: neural voices (piper-tts on onnxruntime) in worker processes, one per core.

The parent never imports piper or onnxruntime: voices are found from their JSON configs
(`attune.speech.engines.piper_voices`), and speech is made in `attune.speech.engines.piper_worker`.

`--rate` means the same pace as with pyttsx3. Each voice's pace is measured once (six sentences at
three length scales, in words per minute of spoken span) and remembered in the speech cache; a
rate then becomes Piper's `length_scale`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import math
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ...errors import OutputError, SettingsError, SpeechError, VoiceError
from ...script.text import count_words
from ...settings import piper_pitch_refused
from ...system.atomic import write_text
from ...system.paths import default_cache_dir
from ..clips import excerpt
from ..parallel import WorkerPool, speech_jobs
from ..voices import VoiceInfo
from ..worker import START_TIMEOUT_S, WorkerClient
from .base import VoiceSettings
from .piper_voices import (
    INSTALL_HINT,
    VOICE_LIST,
    PiperVoiceFiles,
    describe_speakers,
    engine_description,
    installed_voices,
    model_digest,
    piper_version,
    read_voice,
    resolve_piper_voice,
    resolve_speaker,
)

NAME = "piper"
_MODULE = "attune.speech.engines.piper_worker"

#: pyttsx3 on espeak-ng speaks 1.265 words per minute of spoken span for each `--rate` word per minute
#: (measured with espeakng-loader 0.2.4's espeak-ng, `en-us`, on PACE_TEXTS: 125.8, 177.7 and 253.2 at
#: 100, 140 and 200 wpm). Piper is set to the same spoken pace, so `--rate 140` sounds as fast with either.
SPOKEN_WPM_PER_RATE_WPM = 1.265
#: Bump when the pace measurement changes: old measurements (and clips made with them) are then unused.
PACE_VERSION = 4
#: The length scales the pace is measured at, relative to the voice's own: 200 wpm is near 0.9 for
#: most voices, 140 wpm near 1.4, 100 wpm near 2.1.
PACE_SCALES = (0.8, 1.3, 2.1)
#: The sentences a voice's natural pace is measured on (68 words of calm instruction, long and short).
PACE_TEXTS = (
    "Let your attention settle on the breath, wherever you feel it most clearly.",
    "Notice the gentle rise and fall of the belly as you breathe.",
    "There is nothing you need to do right now, and nowhere else to be.",
    "When the mind wanders, simply notice where it went, and come back.",
    "Soften the shoulders, and let the hands rest where they are.",
    "Each breath is a chance to begin again, with kindness.",
)
#: Seconds a worker may take to load a voice model, on top of the sentence's own time limit.
LOAD_TIMEOUT_S = 60.0


def voice_info(voice: PiperVoiceFiles) -> VoiceInfo:
    return VoiceInfo(
        str(voice.model_path),
        voice.name,
        (voice.language,),
        None,
        voice.quality,
        voice.sample_rate_hz,
        describe_speakers(voice),
        f"{voice.source}: {voice.model_path}",
    )


def scale_for_pace(curve: Sequence[tuple[float, float]], target_wpm: float) -> float:
    """The length scale at which a voice with the measured `curve` ((scale, wpm) points) speaks at
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


class PiperSynthesizer:
    """Piper in `parallelism` worker processes (started as needed), with time limits."""

    def __init__(self, cache_dir: Path | None = None, parallelism: int | None = None, worker_argv: Sequence[str] | None = None):
        if piper_version() is None:
            raise SettingsError("the piper engine is not installed", f"{INSTALL_HINT}, or render with --engine pyttsx3")
        self.engine_id = engine_description()
        self.parallelism = max(1, parallelism or speech_jobs())
        self._pool = WorkerPool(lambda: WorkerClient(_MODULE, worker_argv, hello={"threads": 1}), self.parallelism)
        self._pace_file = Path(cache_dir if cache_dir is not None else default_cache_dir()) / "speech" / "piper-pace.json"
        self._files: dict[str, PiperVoiceFiles] = {}
        self._pace: dict[str, tuple[tuple[float, float], ...]] = {}
        self._pace_lock = threading.Lock()

    # -- voices ------------------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return [voice_info(v) for v in installed_voices()]

    def variants(self) -> list[str]:
        return []

    def voice_settings(self, spec: str | None, rate_wpm: float, pitch: int | None, speaker: str | None, language: str | None) -> VoiceSettings:
        if pitch is not None:
            raise piper_pitch_refused()
        files = resolve_piper_voice(spec, language)
        speaker_id = resolve_speaker(files, speaker)
        self._files[str(files.model_path)] = files
        return VoiceSettings(str(files.model_path), rate_wpm, None, speaker_id)

    def _voice_files(self, voice: VoiceSettings) -> PiperVoiceFiles:
        files = self._files.get(voice.voice_id)
        if files is None:
            files = self._files[voice.voice_id] = read_voice(Path(voice.voice_id), "file")
        return files

    def voice_key(self, voice: VoiceSettings) -> str:
        """The model's and config's hash, the speaker, and the pace measurement's version."""
        return f"{model_digest(self._voice_files(voice))}:{voice.speaker}:pace{PACE_VERSION}"

    # -- pace --------------------------------------------------------------------------------------

    def pace(self, voice: VoiceSettings) -> tuple[tuple[float, float], ...]:
        """The voice's pace curve: (length scale, words per minute of spoken span) at PACE_SCALES times
        its own scale. Measured once (pauses between words do not stretch quite as phonemes do, so
        one point would not do), then remembered in the cache."""
        files = self._voice_files(voice)
        key = f"{model_digest(files)}:{voice.speaker}:pace{PACE_VERSION}"
        with self._pace_lock:
            if key in self._pace or self._read_pace(key):
                return self._pace[key]
            words = sum(count_words(t) for t in PACE_TEXTS)

            def measure(scale: float) -> tuple[float, float]:
                payload = {"op": "pace", "texts": list(PACE_TEXTS), "speaker": voice.speaker, "length_scale": scale}
                reply = self._call(files, payload, START_TIMEOUT_S + LOAD_TIMEOUT_S, f"measuring the pace of {files.name}")
                spoken_s = sum(float(s) for s in reply["spoken_s"])
                if spoken_s <= 0:
                    raise SpeechError(f"the Piper voice {files.name} spoke nothing while its pace was measured", "run `attune doctor`")
                return scale, words * 60.0 / spoken_s

            with _pace_file_lock(self._pace_file):
                if not self._read_pace(key):  # another process may have measured it meanwhile
                    # The length scales at once, on as many workers as there are.
                    with concurrent.futures.ThreadPoolExecutor(min(len(PACE_SCALES), self.parallelism)) as pool:
                        curve = tuple(pool.map(measure, [files.length_scale * k for k in PACE_SCALES]))
                    self._pace[key] = curve
                    stored = {**self._stored_paces(), key: [[round(a, 4), round(b, 3)] for a, b in curve]}
                    with contextlib.suppress(OSError, OutputError):  # a read-only cache measures again next time
                        write_text(self._pace_file, json.dumps(stored, indent=1, sort_keys=True))
            return self._pace[key]

    def _stored_paces(self) -> dict:
        with contextlib.suppress(OSError, ValueError):
            stored = json.loads(self._pace_file.read_text("utf-8"))
            if isinstance(stored, dict):
                return stored
        return {}

    def _read_pace(self, key: str) -> bool:
        """Take the pace curve of `key` from the cache file, if it is there."""
        with contextlib.suppress(TypeError, ValueError):
            curve = tuple((float(a), float(b)) for a, b in self._stored_paces().get(key) or ())
            if len(curve) >= 2 and all(a > 0 and b > 0 for a, b in curve):
                self._pace[key] = curve
                return True
        return False

    def length_scale(self, voice: VoiceSettings) -> float:
        """Piper's `length_scale` for `voice.rate_wpm`: the one at which the voice speaks at pyttsx3's
        pace, read off the measured curve (straight lines in log-log between its points, the end
        segments continued beyond them)."""
        return scale_for_pace(self.pace(voice), voice.rate_wpm * SPOKEN_WPM_PER_RATE_WPM)

    # -- speech ------------------------------------------------------------------------------------

    def _call(self, files: PiperVoiceFiles, payload: dict, timeout_s: float, doing: str) -> dict:
        with self._pool.client() as worker:
            loaded = worker.hello.get("attune_loaded", ())
            if str(files.model_path) not in loaded:
                timeout_s += LOAD_TIMEOUT_S
            reply = worker.request({**payload, "model": str(files.model_path), "config": str(files.config_path)}, timeout_s, doing)
            if reply.get("ok") and str(files.model_path) not in loaded:
                # Remembered in the worker's hello, which a restarted worker replaces: it loads the model again.
                worker.hello["attune_loaded"] = (*loaded, str(files.model_path))
        if reply.get("ok"):
            return reply
        if reply.get("kind") == "voice":
            raise VoiceError(
                f"the Piper voice model {files.model_path} could not be loaded ({reply.get('error')})",
                f"the file is damaged or incomplete: download the voice again from {VOICE_LIST}",
            )
        raise SpeechError(f"the piper engine failed while {doing}: {reply.get('error')}", "run `attune doctor`")

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        files = self._voice_files(voice)
        payload = {"op": "synth", "text": text, "length_scale": self.length_scale(voice), "speaker": voice.speaker, "path": str(wav_path)}
        self._call(files, payload, WorkerClient.speak_timeout_s(text), f"speaking {excerpt(text)}")

    def close(self) -> None:
        self._pool.close()
