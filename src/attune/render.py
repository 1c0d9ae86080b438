"""Render a script into a finished track: the library entry point (`attune.render(...)`).

Script → speech clips (cached) → plan (fitted to the length) → the voice measured alone, and the bed
and bells set relative to it → mastered blocks streamed to the encoder → the written file decoded
and measured (voice, track, true peak; encoded again with more headroom if the codec overshot) →
tags and captions → renamed into place. Everything that can be checked is checked before any audio
work starts.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .audio.background import BedSpec, parse_background
from .audio.beds import BED_REFERENCE_LUFS, make_bed
from .audio.bells import bell_strike
from .audio.limiter import LimiterStats
from .audio.meter import LoudnessMeter
from .audio.mix import BELL_RELATIVE_DB, CEILING_DBTP, Mixer, db_to_gain, mastered_blocks, voice_lufs
from .errors import AudioError, VoiceError
from .library import resolve_script
from .media.captions import Cue, write_vtt
from .media.encode import Encoder, encoder_gain_db
from .media.measure import Measurement, measure_file
from .media.tags import Chapter, check_cover, write_tags
from .plan import Plan, make_plan, spoken_sentences
from .request import RenderRequest
from .script import Script, load_script
from .settings import TrackSettings
from .speech.cache import SpeechCache
from .speech.engines import create_synthesizer
from .speech.engines.base import Synthesizer, VoiceSettings
from .speech.engines.espeak import find_espeak
from .speech.voices import resolve_voice
from .system.atomic import atomic_path, check_writable
from .system.ffmpeg import ffmpeg_exe
from .timebase import SAMPLE_RATE

#: The true peak every delivered file stays at or under, as decoded and measured.
PEAK_LIMIT_DBTP = -1.0
#: Our own measurement must show this much more headroom, so that another meter (ffmpeg's ebur128
#: resamples to 192 kHz where we use the Annex 2 filter) cannot find the file over the limit.
PEAK_MARGIN_DB = 0.2
#: A voice measured further than this from the target in the written file is encoded again with the
#: difference corrected (heavy limiting, or a loud bed under the speech, can move it).
VOICE_TOLERANCE_LU = 0.3
#: At most this many encodes of one track (the first, and corrections).
MAX_MASTERING_PASSES = 3
#: Progress callbacks receive (stage, fraction done); stages: "speaking", "encoding", "measuring".
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class RenderResult:
    """What was written, and what it measured."""

    output_path: Path
    captions_path: Path | None
    duration_s: float
    title: str
    description: str | None
    artist: str | None
    voice_id: str
    transcript: str
    plan: Plan
    #: Measured on the file as written (decoded): the BS.1770 integrated loudness of the speech events
    #: (None for a track with no voice), of the whole track, and the true peak.
    voice_lufs: float | None
    track_lufs: float
    true_peak_dbtp: float
    #: The deepest gain reduction the true-peak limiter applied (0.0: it never acted), and for how long.
    limiter_reduction_db: float
    limited_s: float
    synthesized: int


@dataclass(frozen=True)
class Prepared:
    """A script made ready to mix: its plan, voice and bed, all validated."""

    script: Script
    #: The request's settings over the script's, over Attune's defaults.
    settings: TrackSettings
    plan: Plan
    voice: VoiceSettings
    bed_spec: BedSpec | None
    bells: tuple[bool, bool]


def _bed_spec(settings: TrackSettings) -> BedSpec | None:
    background = settings.background
    if background is None:
        return None
    spec = parse_background(background.value, base_dir=background.base_dir, path=background.path, line=background.line)
    if spec is not None and settings.background_db is not None:
        spec = replace(spec, gain_db=settings.background_db)
    return spec


@functools.cache
def _bell_lufs() -> float:
    meter = LoudnessMeter(SAMPLE_RATE, 2)
    meter.add(bell_strike(SAMPLE_RATE))
    return meter.integrated_lufs()


@functools.lru_cache(maxsize=2)
def _generated_bed(spec):
    return make_bed(spec, SAMPLE_RATE)


def _bed(spec):
    """Generated beds are pure functions of their spec, so a batch worker builds each one once;
    a sound file is decoded afresh, since the file may have changed."""
    return make_bed(spec, SAMPLE_RATE) if spec.kind == "file" else _generated_bed(spec)


def _bell_frames() -> int:
    return int(bell_strike(SAMPLE_RATE).shape[0])


def warm_up() -> None:
    """Fill the caches a process fills on its first render: where libespeak-ng is (a linker search),
    the ffmpeg binary and its level calibration at the default bitrate, the bell and its loudness.

    Best effort: anything that fails here fails again, properly reported, in the render itself.
    A batch's forkserver calls this once (through `attune.delivery.preload`), so its workers start warm.
    """
    for step in (find_espeak, ffmpeg_exe, lambda: encoder_gain_db("mp3", "128k"), _bell_lufs):
        with contextlib.suppress(Exception):
            step()


def load(request: RenderRequest) -> tuple[Script, TrackSettings]:
    """The script, and the settings it renders with: the request's over the script's over the defaults."""
    script = load_script(resolve_script(request.script_path), request.settings.vars)
    return script, request.settings.over(script.settings).resolved()


def prepare(request: RenderRequest, speech: SpeechCache, progress: Progress | None = None, loaded: tuple[Script, TrackSettings] | None = None) -> Prepared:
    """Parse (unless `loaded` is the script and settings already), validate, synthesise (or reuse) the
    speech and fit the plan; no mixing yet."""
    script, settings = loaded if loaded is not None else load(request)
    bed_spec = _bed_spec(settings)
    bells = (bool(settings.bells_start), bool(settings.bells_end))
    try:
        voice_id = resolve_voice(settings.voice, speech.voices(), variants=speech.synthesizer.variants(), language=script.language)
    except VoiceError as exc:
        if request.settings.voice is None and script.settings.voice is not None:  # the voice was named in the script
            exc.path, exc.line = script.path, script.voice_line
        raise
    voice = VoiceSettings(voice_id, float(settings.rate_wpm or 0), settings.pitch)
    sentences = spoken_sentences(script)
    keys = speech.ensure(sentences, voice, (lambda d, t: progress("speaking", d / t)) if progress else None)
    frames = {key: speech.frames(key) for key in keys.values()}
    plan = make_plan(script, keys, frames, settings.length_s, bell_frames=_bell_frames(), bells=bells)
    return Prepared(script, settings, plan, voice, bed_spec, bells)


def transcript(plan: Plan) -> str:
    """The spoken text: sentences joined by spaces, sections separated by blank lines."""
    parts: list[list[str]] = []
    last = None
    for event in plan.events:
        if event.kind != "speech":
            continue
        if event.section != last:
            parts.append([])
            last = event.section
        parts[-1].append(event.text)
    return "\n\n".join(" ".join(p) for p in parts)


@contextlib.contextmanager
def _speech_cache(synthesizer: Synthesizer | None, cache_dir: Path | None, engine: str) -> Iterator[SpeechCache]:
    """The speech cache over `synthesizer`, or over a worker of `engine` that is stopped afterwards."""
    synth = synthesizer or create_synthesizer(engine)
    try:
        yield SpeechCache(synth, cache_dir)
    finally:
        if synthesizer is None:
            synth.close()


def default_output(script_path: Path, fmt: str) -> Path:
    return Path("output") / f"{Path(script_path).stem}.{fmt}"


def render(request: RenderRequest, *, cache_dir: Path | None = None, synthesizer: Synthesizer | None = None, progress: Progress | None = None) -> RenderResult:
    """Render `request` to its output path (default `output/<script-stem>.mp3`) and return what was written."""
    output = Path(request.output_path) if request.output_path is not None else default_output(request.script_path, request.settings.format)
    check_writable(output)
    captions_path = output.with_suffix(".vtt") if request.captions else None
    if request.cover is not None:
        check_cover(Path(request.cover))
    loaded = load(request)
    with _speech_cache(synthesizer, cache_dir, loaded[1].engine or "pyttsx3") as speech:
        prepared = prepare(request, speech, progress, loaded)
    settings = prepared.settings
    fmt, bitrate = settings.format, settings.bitrate or "128k"
    target_lufs = float(settings.loudness_lufs if settings.loudness_lufs is not None else -16.0)
    bed = _bed(prepared.bed_spec) if prepared.bed_spec is not None else None
    plan, script = prepared.plan, prepared.script

    # The voice is the anchor: measured alone, as laid out, it is brought to the target; the bed and
    # the bells keep their levels relative to it. With no voice, they are set relative to the target.
    voice_raw_lufs = voice_lufs(plan, speech.load)
    reference = voice_raw_lufs if voice_raw_lufs is not None else target_lufs
    mixer = Mixer(
        plan,
        speech.load,
        bed=bed,
        bed_gain=db_to_gain(reference + prepared.bed_spec.gain_db - BED_REFERENCE_LUFS) if prepared.bed_spec is not None else 0.0,
        bell=bell_strike(SAMPLE_RATE),
        bell_gain=db_to_gain(reference + BELL_RELATIVE_DB - _bell_lufs()),
    )
    # The encoder's own level change is compensated here, so the file as decoded meets the targets.
    codec_db = encoder_gain_db(fmt, bitrate)
    gain_db = target_lufs - reference - codec_db
    ceiling_dbtp = CEILING_DBTP - codec_db
    with contextlib.ExitStack() as stack:
        tmp_audio = stack.enter_context(atomic_path(output))
        tmp_vtt = stack.enter_context(atomic_path(captions_path)) if captions_path else None
        for attempt in range(MAX_MASTERING_PASSES):
            stats = LimiterStats()
            _encode(mixer, tmp_audio, fmt, bitrate, db_to_gain(gain_db), ceiling_dbtp, stats, progress, "encoding" if attempt == 0 else "re-encoding")
            if progress:
                progress("measuring", 0.0)
            measured = measure_file(tmp_audio, plan.speech_spans())
            if progress:
                progress("measuring", 1.0)
            _check_length(measured, plan, output)
            over_db = measured.true_peak_dbtp - (PEAK_LIMIT_DBTP - PEAK_MARGIN_DB)
            voice_off_db = target_lufs - measured.voice_lufs if measured.voice_lufs is not None else 0.0
            if over_db <= 0 and abs(voice_off_db) <= VOICE_TOLERANCE_LU:
                break
            # Correct by what was measured and encode again: first the ceiling, when the codec overshot
            # (more headroom for the limiter), else the gain, when the voice moved (a loud bed under the
            # speech, or limiting).
            if over_db > 0:
                ceiling_dbtp -= over_db + 0.3
            else:
                gain_db += voice_off_db
        else:
            if over_db > 0:
                raise AudioError(
                    f"the encoded file peaks at {measured.true_peak_dbtp:.1f} dBTP, over the {PEAK_LIMIT_DBTP:g} dBTP ceiling, "
                    f"after {MAX_MASTERING_PASSES} encodes",
                    "try a higher --bitrate or a lower --loudness; please report this",
                    path=str(output),
                )
        artist = request.artist or script.author
        if fmt == "mp3":
            write_tags(
                tmp_audio,
                title=script.title,
                artist=artist,
                album=request.album or script.title,
                comment=script.description,
                track=request.track,
                cover=request.cover,
                chapters=[Chapter(name, a, b) for name, a, b in plan.chapters()],
            )
        if tmp_vtt is not None:
            write_vtt(tmp_vtt, [Cue(a, b, text) for a, b, text in plan.cues()])
    return RenderResult(
        output_path=output,
        captions_path=captions_path,
        duration_s=plan.duration_s,
        title=script.title,
        description=script.description,
        artist=request.artist or script.author,
        voice_id=prepared.voice.voice_id,
        transcript=transcript(plan),
        plan=plan,
        voice_lufs=measured.voice_lufs,
        track_lufs=measured.track_lufs,
        true_peak_dbtp=measured.true_peak_dbtp,
        limiter_reduction_db=stats.max_reduction_db,
        limited_s=stats.limited_frames / SAMPLE_RATE,
        synthesized=speech.synthesized,
    )


def _encode(
    mixer: Mixer, path: Path, fmt: str, bitrate: str, gain: float, ceiling_dbtp: float, stats: LimiterStats, progress: Progress | None, stage: str
) -> None:
    """One mastering pass: every block of the mix, gained and limited, into the encoder."""
    total = max(mixer.n_frames, 1)
    written = 0
    with Encoder(path, fmt, bitrate, SAMPLE_RATE) as encoder:
        for block in mastered_blocks(mixer, gain, ceiling_dbtp, stats):
            encoder.write(block)
            written += block.shape[0]
            if progress:
                progress(stage, written / total)


#: A decoded file may differ from the plan by at most this much (a codec that pads or trims more is a bug).
_LENGTH_TOLERANCE_S = 0.001


def _check_length(measured: Measurement, plan: Plan, output: Path) -> None:
    if abs(measured.duration_s - plan.duration_s) > _LENGTH_TOLERANCE_S:
        raise AudioError(
            f"the encoded file decodes to {measured.duration_s:.3f}s, not the planned {plan.duration_s:.3f}s",
            "this is a bug in Attune's encoder settings; please report it",
            path=str(output),
        )


def plan_script(request: RenderRequest, *, cache_dir: Path | None = None, synthesizer: Synthesizer | None = None) -> Plan:
    """The plan `render` would follow for `request` (synthesising only speech not yet cached)."""
    loaded = load(request)
    with _speech_cache(synthesizer, cache_dir, loaded[1].engine or "pyttsx3") as speech:
        return prepare(request, speech, loaded=loaded).plan
