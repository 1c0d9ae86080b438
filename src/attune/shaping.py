"""Each section's own sound: its voice (engine, voice, rate) and its bed, over the track's.

A section's settings (`Section.settings`: voice, rate_wpm, engine, background, background_db) are
layered over the track's with the one merge (`TrackSettings.over`): the section wins, since it was
shaped on purpose. `Speakers` keeps one speech cache per engine, each engine made by the one factory
(`attune.speech.engines`: the renderer passes `shared_synthesizer`), so any engine Attune knows can speak any section.
`select_sections` makes the script of `attune render --section NAME`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .audio.background import BedSpec, parse_background
from .errors import AttuneError, SettingsError, VoiceError
from .plan import SectionSound, section_sentence_lines
from .script import Script
from .settings import RECORDING_ENGINE, TrackSettings
from .slugs import slugify
from .speech.cache import SpeechCache
from .speech.engines import create_synthesizer
from .speech.engines.base import Synthesizer, VoiceSettings


class Speakers:
    """Speech caches by engine: the track's (over `synthesizer`, when given) and any a section asks for."""

    def __init__(self, synthesizer: Synthesizer | None, cache_dir: Path | None, engine: str, factory: Callable[[str], Synthesizer] | None = None):
        self.cache_dir = cache_dir
        self.engine = engine
        self._factory = factory or create_synthesizer
        self._owned: list[Synthesizer] = []
        self._caches: dict[str, SpeechCache] = {}
        self._owner: dict[str, SpeechCache] = {}
        if synthesizer is not None:
            self._caches[engine] = SpeechCache(synthesizer, cache_dir)

    def cache(self, engine: str | None = None) -> SpeechCache:
        engine = engine or self.engine
        if engine not in self._caches:
            synth = self._factory(engine)
            self._owned.append(synth)
            self._caches[engine] = SpeechCache(synth, self.cache_dir)
        return self._caches[engine]

    @property
    def synthesized(self) -> int:
        return sum(cache.synthesized for cache in self._caches.values())

    def ensure(self, engine: str, texts: Sequence[str], voice: VoiceSettings, progress=None) -> dict[str, str]:
        cache = self.cache(engine)
        keys = cache.ensure(texts, voice, progress)
        for key in keys.values():
            self._owner[key] = cache
        return keys

    def frames(self, key: str) -> int:
        return self._owner[key].frames(key)

    def load(self, key: str) -> np.ndarray:
        return self._owner[key].load(key)

    def close(self) -> None:
        for synth in self._owned:
            synth.close()


@dataclass(frozen=True)
class Shaped:
    """Every section's sound, the clips' lengths, and the beds by key (as plan events name them)."""

    sounds: tuple[SectionSound, ...]
    clip_frames: Mapping[str, int]
    beds: Mapping[str, BedSpec] = field(default_factory=dict)
    #: The track's own voice (the one sections without a voice of their own speak with).
    voice: VoiceSettings | None = None
    #: What the engines said while preparing (a take's speech that the script does not have).
    warnings: tuple[str, ...] = ()


def bed_spec(settings: TrackSettings) -> BedSpec | None:
    """The bed `settings` ask for (None: none), at their `background_db` when set."""
    background = settings.background
    if background is None:
        return None
    spec = parse_background(background.value, base_dir=background.base_dir, path=background.path, line=background.line)
    if spec is not None and settings.background_db is not None:
        spec = replace(spec, gain_db=settings.background_db)
    return spec


def bed_key(spec: BedSpec) -> str:
    """How plan events name a bed: `drone -22 dB`, `rain.ogg -20 dB`, `binaural 200/6 Hz -24 dB`."""
    if spec.kind == "file" and spec.path is not None:
        name = spec.path.name
    elif spec.kind == "binaural":
        name = f"binaural {spec.carrier_hz:g}/{spec.beat_hz:g} Hz"
    elif spec.kind == "drone":
        name = "drone" if spec.root_hz == 110.0 else f"drone {spec.root_hz:g} Hz"
    else:
        name = spec.kind
    if spec.kind != "file" and spec.seed:
        name += f" seed {spec.seed}"
    return f"{name} {spec.gain_db:g} dB"


def voice_label(engine: str, voice: VoiceSettings) -> str:
    if engine == RECORDING_ENGINE:
        return f"{engine} {voice.voice_id}"  # the take's own pace
    return f"{engine} {voice.voice_id} {voice.rate_wpm:g} wpm"


def _voice(cache: SpeechCache, engine: str, merged: TrackSettings, pitch: int | None, language: str | None) -> VoiceSettings:
    """The voice `merged` asks for: an engine's, or a take's (its path, clean-up and recogniser)."""
    recording = merged.recording
    if engine != RECORDING_ENGINE or recording is None:
        return cache.voice_settings(merged.voice, float(merged.rate_wpm or 0), pitch, merged.speaker, language)
    from .speech.engines.recording import voice_options

    try:
        return cache.voice_settings(str(recording.file), float(merged.rate_wpm or 0), None, None, language, options=voice_options(merged))
    except AttuneError as exc:
        if exc.path is None:
            exc.path, exc.line = recording.path, recording.line
        raise


def shape(
    script: Script, settings: TrackSettings, speakers: Speakers, *, track_voice_named_in_script: bool, above: TrackSettings | None = None, progress=None
) -> Shaped:
    """Resolve every section's voice and bed, and make sure every sentence is spoken (cached) in its voice.

    `above` is what was asked for over the script (flags, a roster): a script's `pitch:` is a pyttsx3
    setting, so a section that Piper speaks because the engine was chosen there or in a section leaves
    it out; a pitch given above the script too is an error (Piper has no pitch control)."""
    beds: dict[str, BedSpec] = {}
    voices: dict[tuple[str, VoiceSettings], dict[str, str]] = {}
    sounds: list[SectionSound] = []
    plans: list[tuple[str, VoiceSettings, list[tuple[str, int]]]] = []
    track_voice: VoiceSettings | None = None
    above = above or TrackSettings()
    for section in script.sections:
        own = section.settings
        merged = own.over(settings)
        engine = RECORDING_ENGINE if merged.recording is not None else merged.engine or speakers.engine
        cache = speakers.cache(engine)
        pitch = merged.pitch
        if engine == "piper" and above.pitch is not None:
            raise VoiceError("--pitch is not available with the piper engine", "Piper has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3")
        if engine == "piper" and (above.engine is not None or own.engine is not None):
            pitch = None  # the script's pyttsx3 pitch, under an engine chosen above it or by the section
        try:
            voice = _voice(cache, engine, merged, pitch, script.language)
        except VoiceError as exc:
            if exc.path is None:
                if own.voice is not None or own.engine is not None:
                    exc.path, exc.line = script.path, section.line
                elif track_voice_named_in_script:
                    exc.path, exc.line = script.path, script.voice_line
            raise
        if own.voice is None and own.rate_wpm is None and own.engine is None and track_voice is None:
            track_voice = voice
        try:
            spec = bed_spec(merged)
        except SettingsError as exc:
            if exc.path is None:
                exc.path, exc.line = script.path, section.line
            raise
        key = None
        if spec is not None:
            key = bed_key(spec)
            while key in beds and beds[key] != spec:  # two files of one name in different folders
                key += "'"
            beds[key] = spec
        plans.append((engine, voice, section_sentence_lines(section)))
        sounds.append(SectionSound(voice=voice_label(engine, voice), bed=key))
    # Speak: one pass per voice, every sentence once; an engine that prepares (a take is aligned) sees them all first.
    wanted: dict[tuple[str, VoiceSettings], list[str]] = {}
    warnings: list[str] = []
    for engine, voice, lines in plans:
        wanted.setdefault((engine, voice), []).extend(text for text, _ in lines)
    for engine, voice in wanted:
        ready = getattr(speakers.cache(engine).synthesizer, "prepare", None)
        if ready is not None:
            warnings += ready(voice, [line for e, v, lines in plans if (e, v) == (engine, voice) for line in lines], script.path)
    total = sum(len(set(texts)) for texts in wanted.values()) or 1
    done_before = 0
    for (engine, voice), texts in wanted.items():
        unique = list(dict.fromkeys(texts))
        report = (lambda d, t, base=done_before: progress("speaking", (base + d) / total)) if progress else None
        voices[(engine, voice)] = speakers.ensure(engine, unique, voice, report)
        done_before += len(unique)
    frames: dict[str, int] = {}
    shaped_sounds = []
    for (engine, voice, lines), sound in zip(plans, sounds):
        keys = {text: voices[(engine, voice)][text] for text, _ in lines}
        for key in keys.values():
            if key not in frames:
                frames[key] = speakers.frames(key)
        shaped_sounds.append(replace(sound, clip_keys=keys))
    return Shaped(tuple(shaped_sounds), frames, beds, track_voice or (plans[0][1] if plans else None), tuple(dict.fromkeys(warnings)))


def select_sections(script: Script, names: Sequence[str]) -> Script:
    """The script with only the sections named (by name, any case, or by slug), in the script's order;
    no length and no opening or closing bells: what `attune render --section` plays."""
    wanted = {_norm(name) for name in names}
    known = {_norm(s.name) for s in script.sections}
    for name in names:
        if _norm(name) not in known:
            listing = ", ".join(repr(s.name) for s in script.sections)
            raise SettingsError(f"no section {name!r} in this script", f"its sections are {listing}", path=script.path)
    sections = tuple(s for s in script.sections if _norm(s.name) in wanted)
    settings = replace(script.settings, length_s=None, bells_start=False, bells_end=False)
    return replace(script, sections=tuple(replace(s, optional=False) for s in sections), settings=settings)


def section_stem(script_path: Path, names: Sequence[str]) -> Path:
    """`output/<stem>-<section>` (several sections: their slugs joined)."""
    slugs = "-".join(slugify(name, fallback="section") for name in names)
    return Path("output") / f"{Path(script_path).stem}-{slugs}"


def _norm(name: str) -> str:
    return slugify(name, fallback="section")
