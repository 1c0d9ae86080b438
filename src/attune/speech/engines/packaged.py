"""Engines whose voices are a table inside a pip package (hibari, SVOX Pico): what they share.

Each runs in worker processes (one per core, started on first use) with the time limits of
`attune.speech.worker`; the parent imports neither the engine nor onnxruntime, only the table of
voices (read from the package's files). `--rate` is matched to pyttsx3's pace through the engine's
speed knob (`attune.speech.engines.pace`); the cache key holds the package versions (`engine_id`)
and a hash of the voice's model files (`voice_key`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import SettingsError, SpeechError, VoiceError
from ...system.files import sha256_file
from ...system.paths import default_cache_dir
from ..parallel import WorkerPool, speech_jobs
from ..voices import VoiceInfo
from ..wishes import language_fits, parse_wish
from ..worker import START_TIMEOUT_S, WorkerClient
from .base import VoiceSettings
from .pace import PACE_TEXTS, PaceStore, scale_for_pace, step_for_pace, target_spoken_wpm, wpm_of
from .pace_table import known_curves

#: Seconds a worker may take to load a voice, on top of a sentence's own time limit.
LOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TableVoice:
    """One voice of a packaged engine, as its package declares it."""

    name: str
    #: BCP 47 (`en-US`).
    language: str
    gender: str | None
    sample_rate_hz: int
    #: The files that decide its sound (its model, its lingware); empty when not on this machine.
    files: tuple[Path, ...]
    #: Where it comes from: `package hibari-tts`, `hibari's download cache`, `needs download (7.9 MB)`.
    source: str
    #: On this machine, so a render can use it without the network.
    ready: bool = True
    #: How to get it, when it is not ready.
    hint: str = ""


def package_folder(module: str, sub: str) -> Path | None:
    """The folder `sub` of the installed package `module`, found without importing it (None: not installed)."""
    spec = importlib.util.find_spec(module)
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        if Path(folder, sub).is_dir():
            return Path(folder, sub)
    return None


def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def files_digest(files: Sequence[Path]) -> str:
    """A hash of the files' contents (each remembered per size and time in a process)."""
    parts = []
    for path in files:
        stat = path.stat()
        parts.append(_digest(str(path), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def find_table_voice(engine: str, table: Sequence[TableVoice], spec: str | None, language: str | None) -> TableVoice:
    """The voice `spec` names (a name, a language code, a gender, or words of both: `en-GB female`),
    else the first that speaks `language`; a voice that needs a download is an error saying so."""
    ready = [v for v in table if v.ready]
    listing = ", ".join(f"{v.name} ({v.language})" for v in ready) or "none"
    if spec is not None and spec.strip():
        wish = parse_wish(spec, [v.name for v in table])
        if wish is None:
            raise VoiceError(f"unknown {engine} voice '{spec.strip()}' (installed: {listing})", f"`attune voices --engine {engine}` lists them")
        hits = [v for v in table if v.name.lower() in wish.names or (not wish.names and _grants(v, wish.languages, wish.gender))]
        hits = [v for v in hits if _grants(v, wish.languages, wish.gender)]
        usable = [v for v in hits if v.ready]
        if usable:
            return usable[0]
        if hits:
            missing = hits[0]
            raise VoiceError(f"the {engine} voice {missing.name} is not on this machine ({missing.source})", missing.hint or f"`attune voices --engine {engine}` lists the installed ones")
        raise VoiceError(f"no {engine} voice is '{spec.strip()}' (installed: {listing})", "`attune voices --all` lists every engine's voices")
    wanted = language or "en"
    speaking = [v for v in ready if language_fits(v.language, wanted)]
    if not speaking:
        raise VoiceError(
            f"no {engine} voice speaks the language '{wanted}' (installed: {listing})",
            "`attune voices --all --language " + wanted + "` shows the voices that do",
        )
    return speaking[0]


def _grants(voice: TableVoice, languages: Sequence[str], gender: str | None) -> bool:
    return (not languages or any(language_fits(voice.language, want) for want in languages)) and (gender is None or voice.gender == gender)


class PackagedSynthesizer:
    """A packaged engine in `parallelism` worker processes, with time limits and pace matching.

    Subclasses name the engine (`NAME`), its worker module (`MODULE`), its install hint, its speed
    range, and give `table()`, `description()`, and (if it has one) the pitch it takes."""

    NAME = ""
    MODULE = ""
    DIST = ""
    INSTALL_HINT = "pip install 'attune[voices]'"
    #: Bump when the pace measurement changes (2: the 100-word passage).
    PACE_VERSION = 2
    #: Scales (1 / speed) the pace is measured at: slow enough for 100 wpm, fast enough for 200.
    PACE_SCALES: tuple[float, ...] = (0.8, 1.3, 2.0)
    #: The speed moves the pace in steps: PACE_SCALES are the middles of the steps, and the worker
    #: stretches the voice's frames from the nearest one (`pace.step_for_pace`).
    STEPPED_PACE = False

    def __init__(self, cache_dir: Path | None = None, parallelism: int | None = None, worker_argv: Sequence[str] | None = None):
        if package_version(self.DIST) is None:
            raise SettingsError(f"the {self.NAME} engine is not installed", f"{self.INSTALL_HINT}, or render with --engine pyttsx3")
        self.engine_id = self.description()
        self.parallelism = max(1, parallelism or speech_jobs())
        self._pool = WorkerPool(lambda: WorkerClient(self.MODULE, worker_argv), self.parallelism)
        self._paces = PaceStore(Path(cache_dir if cache_dir is not None else default_cache_dir()) / "speech" / f"{self.NAME}-pace.json", known_curves(self.engine_id))

    # -- what a subclass says ----------------------------------------------------------------------

    @classmethod
    def table(cls) -> list[TableVoice]:
        raise NotImplementedError

    @classmethod
    def description(cls) -> str:
        raise NotImplementedError

    def worker_pitch(self, pitch: int | None) -> float | None:
        """The engine's pitch for Attune's 0–100 (None: the voice's own); engines without one refuse a pitch."""
        if pitch is not None:
            raise VoiceError(f"--pitch is not available with the {self.NAME} engine", f"{self.NAME.capitalize()} has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3 or pico")
        return None

    # -- voices ------------------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(v.name, v.name, (v.language,), v.gender, None, v.sample_rate_hz, "1", v.source) for v in self.table() if v.ready]

    def variants(self) -> list[str]:
        return []

    def voice_settings(self, spec: str | None, rate_wpm: float, pitch: int | None, speaker: str | None, language: str | None) -> VoiceSettings:
        self.worker_pitch(pitch)  # refuses a pitch the engine cannot give
        if speaker is not None:
            raise VoiceError(f"the {self.NAME} voices have a single speaker, so --speaker {speaker} cannot be used", "drop --speaker")
        return VoiceSettings(find_table_voice(self.NAME, self.table(), spec, language).name, rate_wpm, pitch)

    def _voice(self, voice: VoiceSettings) -> TableVoice:
        for entry in self.table():
            if entry.name == voice.voice_id and entry.ready:
                return entry
        raise VoiceError(f"the {self.NAME} voice {voice.voice_id} is not on this machine", f"`attune voices --engine {self.NAME}` lists the installed ones")

    def voice_key(self, voice: VoiceSettings) -> str:
        """A hash of the voice's files and the pace measurement's version."""
        return f"{files_digest(self._voice(voice).files)}:pace{self.PACE_VERSION}"

    # -- pace --------------------------------------------------------------------------------------

    def pace(self, voice: VoiceSettings) -> tuple[tuple[float, float], ...]:
        """The voice's (scale, words per minute of spoken span) curve at PACE_SCALES; measured once, then kept in the cache."""
        entry = self._voice(voice)

        def measure(scale: float) -> float:
            payload = {"op": "pace", "texts": list(PACE_TEXTS), "speed": 1.0 / scale, "pitch": self.worker_pitch(voice.pitch)}
            reply = self._call(entry, payload, START_TIMEOUT_S + LOAD_TIMEOUT_S, f"measuring the pace of {entry.name}")
            return wpm_of(reply["spoken_s"], f"the {self.NAME} voice {entry.name}")

        key = f"{files_digest(entry.files)}:{voice.pitch}:pace{self.PACE_VERSION}"
        return self._paces.curve(key, self.PACE_SCALES, measure, self.parallelism, abort=self._pool.cancel)

    def tempo(self, voice: VoiceSettings) -> dict[str, float]:
        """The engine's speed (and, for a stepped engine, the stretch of its frames) at which the voice
        speaks at pyttsx3's pace for `voice.rate_wpm`."""
        target_wpm = target_spoken_wpm(voice.rate_wpm)
        if self.STEPPED_PACE:
            scale, stretch = step_for_pace(self.pace(voice), target_wpm)
            return {"speed": 1.0 / scale, "stretch": stretch}
        return {"speed": 1.0 / scale_for_pace(self.pace(voice), target_wpm)}

    # -- speech ------------------------------------------------------------------------------------

    def _call(self, entry: TableVoice, payload: dict, timeout_s: float, doing: str) -> dict:
        with self._pool.client() as worker:
            loaded = worker.hello.get("attune_loaded", ())
            if entry.name not in loaded:
                timeout_s += LOAD_TIMEOUT_S
            model = str(entry.files[0]) if entry.files else None
            reply = worker.request({**payload, "voice": entry.name, "language": entry.language, "model": model}, timeout_s, doing)
            if reply.get("ok") and entry.name not in loaded:
                worker.hello["attune_loaded"] = (*loaded, entry.name)
        if reply.get("ok"):
            return reply
        if reply.get("kind") == "voice":
            raise VoiceError(f"the {self.NAME} voice {entry.name} could not be loaded ({reply.get('error')})", f"reinstall it: {self.INSTALL_HINT}")
        raise SpeechError(f"the {self.NAME} engine failed while {doing}: {reply.get('error')}", "run `attune doctor`")

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        from ..clips import excerpt  # numpy: not loaded by the light callers of the voice table

        entry = self._voice(voice)
        payload = {"op": "synth", "text": text, **self.tempo(voice), "pitch": self.worker_pitch(voice.pitch), "path": str(wav_path)}
        self._call(entry, payload, WorkerClient.speak_timeout_s(text), f"speaking {excerpt(text)}")

    def cancel(self) -> None:
        """Kill the workers now; every request in flight fails at once (until `close()`)."""
        self._pool.cancel()

    def close(self) -> None:
        self._pool.close()


def identity(synth_class: type[PackagedSynthesizer], voice: str | None, language: str | None) -> str:
    """`engine_identity` of a packaged engine: its versions, and the voice's name and files' hash."""
    try:
        entry = find_table_voice(synth_class.NAME, synth_class.table(), voice, language)
    except VoiceError:
        return f"{synth_class.NAME}: {synth_class.description()}; voice {voice or language!r} not found"
    return f"{synth_class.NAME}: {synth_class.description()}; voice {entry.name} sha256:{files_digest(entry.files)}"
