"""Each section's own voice (engine, voice, rate) and bed, over the track's, and every sentence spoken.

A section's settings (`Section.settings`: voice, rate_wpm, engine, background, background_db) are
layered over the track's with the one merge (`TrackSettings.over`): the section wins, since it was
shaped on purpose. The voices come from `Speakers` (one speech cache per engine); a section's bed is
named as plan events name it (`attune.audio.background.bed_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..audio.background import BedSpec, bed_key, bed_spec
from ..errors import AttuneError, SettingsError, VoiceError
from ..plan import SectionSound
from ..script import Script, Section, Speech
from ..script.text import sentence_lines
from ..settings import RECORDING_ENGINE, TrackSettings, piper_pitch_refused
from .cache import SpeechCache
from .choice import NO_PITCH, engine_named, section_voice
from .engines.base import VoiceSettings
from .speakers import Speakers


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


def section_sentence_lines(section: Section) -> list[tuple[str, int]]:
    """Every sentence `section` speaks, in order, without repeats, with the script line it is on
    (`plan.section_sentences`, with lines: a take's missing sentence is reported at its line)."""
    return sentence_lines((item.text, item.line) for item in section.items if isinstance(item, Speech))


def voice_label(engine: str, voice: VoiceSettings) -> str:
    if engine == RECORDING_ENGINE:
        return f"{engine} {voice.voice_id}"  # the take's own pace
    return f"{engine} {voice.voice_id} {voice.rate_wpm:g} wpm"


def _voice(cache: SpeechCache, engine: str, merged: TrackSettings, pitch: int | None, language: str | None) -> VoiceSettings:
    """The voice `merged` asks for: an engine's, or a take's (its path, clean-up and recogniser)."""
    recording = merged.recording
    if engine != RECORDING_ENGINE or recording is None:
        return cache.voice_settings(merged.voice, float(merged.rate_wpm or 0), pitch, merged.speaker, language)
    from .engines.recording import voice_options

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
    named = engine_named(above, script)
    for section in script.sections:
        own = section.settings
        # A section's voice in a teacher's words (`female`, `es`, `en-GB`) is chosen as the track's is
        # (its warnings were said when the script was loaded: `choice.settle_all`).
        merged = section_voice(section, settings, script, engine_named=named)[0]
        engine = RECORDING_ENGINE if merged.recording is not None else merged.engine or speakers.engine
        cache = speakers.cache(engine)
        pitch = merged.pitch
        if engine == "piper" and above.pitch is not None:
            raise piper_pitch_refused()
        if engine == "hibari" and above.pitch is not None:
            raise VoiceError("--pitch is not available with the hibari engine", "Hibari has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3 or pico")
        if engine in NO_PITCH and (above.engine is not None or own.engine is not None):
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


