"""Render a script into finished files: the library entry point (`attune.render(...)`).

Script → speech clips (cached) → plan (fitted to the length) → the voice measured alone, and the bed
and bells set relative to it → one mixing pass into every requested format's encoder → each written
file decoded and measured (voice, track, true peak; encoded again with more headroom if its codec
overshot) → tags, chapters and captions → renamed into place, all together. With `split_sections`,
each section is also a file of its own, with an .m3u8 playlist. Everything that can be checked is
checked before any audio work starts.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .audio.background import BedSpec
from .audio.background import bed_spec as bed_spec_of
from .audio.bed_track import BedRun, BedTrack
from .audio.beds import BED_REFERENCE_LUFS, make_bed
from .audio.bells import bell_strike
from .audio.meter import LoudnessMeter
from .audio.mix import BELL_RELATIVE_DB, Mixer, db_to_gain, gain_through_limiter, voice_lufs
from .errors import BusyError
from .formats import Format, estimated_bytes, outputs_for
from .library import resolve_script
from .media.captions import Cue, write_vtt
from .media.cover import check_cover
from .media.encode import encoder_gain_db
from .media.master import Output, master
from .media.playlist import PlaylistEntry, write_m3u8
from .media.tags import Chapter, Tags, write_file_tags
from .plan import Plan, make_plan
from .request import RenderRequest
from .script import Script, load_script
from .script.select import section_stem, select_sections
from .settings import DEFAULT_ENGINE, TrackSettings
from .slugs import slugify
from .speech.choice import settle
from .speech.engines import shared_synthesizer
from .speech.engines.base import Synthesizer, VoiceSettings
from .speech.engines.espeak import find_espeak
from .speech.speakers import Speakers
from .speech.voicing import shape
from .system.atomic import atomic_path, check_writable
from .system.ffmpeg import ffmpeg_exe
from .system.lock import Held, hold
from .system.space import check_space, is_no_space, no_space
from .timebase import SAMPLE_RATE

#: Progress callbacks receive (stage, fraction done); stages: "speaking", "encoding", "re-encoding", "measuring", "sections".
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class WrittenFile:
    """One file a render wrote, and what it measures (on the file as written, decoded): the BS.1770
    integrated loudness of its speech events (None with no voice) and of the whole file, its true
    peak, and the deepest gain reduction the limiter applied (0.0: it never acted) and for how long."""

    path: Path
    format: str
    title: str
    duration_s: float
    voice_lufs: float | None
    track_lufs: float
    true_peak_dbtp: float
    limiter_reduction_db: float
    limited_s: float
    encodes: int

    @staticmethod
    def of(output: Output, final: Path, title: str) -> WrittenFile:
        measured = output.measured
        assert measured is not None  # mastered outputs are measured
        return WrittenFile(
            final,
            output.format.name,
            title,
            measured.duration_s,
            measured.voice_lufs,
            measured.track_lufs,
            measured.true_peak_dbtp,
            output.stats.max_reduction_db,
            output.stats.limited_frames / SAMPLE_RATE,
            output.encodes,
        )


@dataclass(frozen=True)
class RenderResult:
    """What was written, and what it measured. The figures at the top level are the first file's."""

    output_path: Path
    captions_path: Path | None
    duration_s: float
    title: str
    description: str | None
    artist: str | None
    voice_id: str
    transcript: str
    plan: Plan
    voice_lufs: float | None
    track_lufs: float
    true_peak_dbtp: float
    limiter_reduction_db: float
    limited_s: float
    synthesized: int
    #: Every file written, the first format first; then the sections' files and playlists, if split.
    outputs: tuple[WrittenFile, ...] = ()
    sections: tuple[WrittenFile, ...] = ()
    playlists: tuple[Path, ...] = ()
    #: Near misses in the script (text that looks like a marker, spoken as it is): `FILE:LINE: … — fix`.
    warnings: tuple[str, ...] = ()
    #: What Attune noticed that is no problem, e.g. a file read as another tool's format.
    notes: tuple[str, ...] = ()


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
    #: Every bed the plan's events name (`Event.bed`), by name.
    beds: Mapping[str, BedSpec] = field(default_factory=dict)
    #: What the speech engines warned of (a take's speech that the script does not have).
    speech_warnings: tuple[str, ...] = ()


@functools.cache
def _bell_lufs() -> float:
    meter = LoudnessMeter(SAMPLE_RATE, 2)
    meter.add(bell_strike(SAMPLE_RATE))
    return meter.integrated_lufs()


@functools.lru_cache(maxsize=2)
def _generated_bed(spec):
    return make_bed(spec, SAMPLE_RATE)


def _bed(spec, n_frames: int | None = None):
    """Generated beds are pure functions of their spec, so a batch worker builds each one once;
    a sound file is decoded afresh (as much of it as `n_frames` needs), since the file may have changed."""
    return make_bed(spec, SAMPLE_RATE, n_frames) if spec.kind == "file" else _generated_bed(spec)


def _bell_frames() -> int:
    return int(bell_strike(SAMPLE_RATE).shape[0])


def warm_up() -> None:
    """Fill the caches a process fills on its first render: where libespeak-ng is (a linker search),
    the ffmpeg binary and its level calibration at the default bitrate, the bell and its loudness.

    Best effort: anything that fails here fails again, properly reported, in the render itself.
    A batch's forkserver calls this once (through `attune.delivery.preload`), so its workers start warm.
    """
    for step in (find_espeak, ffmpeg_exe, lambda: encoder_gain_db("mp3", "128k"), _bell_lufs, _import_mastering, lambda: bell_strike(SAMPLE_RATE, soft=True)):
        with contextlib.suppress(Exception):
            step()


def _import_mastering() -> None:
    """scipy.ndimage (the limiter's) and scipy.signal (the meters' and the true-peak filter's: about a second)."""
    for name in ("scipy.ndimage", "scipy.signal"):
        importlib.import_module(name)


def _warm_up_while_speaking() -> None:
    """`warm_up` in a background thread: the speech workers synthesise in their own processes while
    this one only waits for them, so the mastering's imports and the bell cost a cold render nothing
    after its speech (1.3 s of a 40-sentence Piper render, before)."""
    threading.Thread(target=warm_up, name="attune-warm-up", daemon=True).start()


def load(request: RenderRequest, strict: bool = False) -> tuple[Script, TrackSettings]:
    """The script (only the sections asked for, if any), and the settings it renders with: the
    request's over the script's over the defaults, with the voice chosen from a teacher's words
    (`attune.speech.choice`; its warnings join the script's, `strict` makes a wrong language an error)."""
    script = load_script(resolve_script(request.script_path), request.settings.vars)
    if request.sections:
        script = select_sections(script, request.sections)
    settings, warnings = settle(request.settings, script, strict=strict)
    if warnings:
        script = replace(script, warnings=(*script.warnings, *warnings))
    return script, settings.resolved()


def prepare(request: RenderRequest, speech: Speakers, progress: Progress | None = None, loaded: tuple[Script, TrackSettings] | None = None) -> Prepared:
    """Parse (unless `loaded` is the script and settings already), validate, synthesise (or reuse) the
    speech of every section in its voice and fit the plan; no mixing yet."""
    script, settings = loaded if loaded is not None else load(request)
    bed_spec = bed_spec_of(settings)
    bells = (bool(settings.bells_start), bool(settings.bells_end))
    named_in_script = request.settings.voice is None and script.settings.voice is not None
    shaped = shape(script, settings, speech, track_voice_named_in_script=named_in_script, above=request.settings, progress=progress)
    length_s = None if request.sections else settings.length_s
    plan = make_plan(
        script, {}, shaped.clip_frames, length_s, bell_frames=_bell_frames(), bells=bells, sounds=shaped.sounds, interval_bells_s=settings.interval_bells_s
    )
    voice = shaped.voice or VoiceSettings("", float(settings.rate_wpm or 0), settings.pitch)
    return Prepared(script, settings, plan, voice, bed_spec, bells, shaped.beds, shaped.warnings)


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
def _speech_cache(synthesizer: Synthesizer | None, cache_dir: Path | None, engine: str) -> Iterator[Speakers]:
    """The speech caches: over `synthesizer` for the track's `engine` (else this process's shared
    synthesiser of it), and the shared synthesiser of any other engine a section asks for. Shared
    workers, and the voice models they loaded, stay for the next render and stop at exit; on a
    failure they are stopped, so nothing half-done stays running (a later render starts them again)."""
    speakers = Speakers(synthesizer, cache_dir, engine, factory=lambda name: shared_synthesizer(name, cache_dir=cache_dir))
    try:
        yield speakers
    except BaseException:
        speakers.close()
        raise


def default_stem(script_path: Path, sections: Sequence[str] = ()) -> Path:
    return section_stem(script_path, sections) if sections else Path("output") / Path(script_path).stem


def render(
    request: RenderRequest, *, cache_dir: Path | None = None, synthesizer: Synthesizer | None = None, progress: Progress | None = None, strict: bool = False
) -> RenderResult:
    """Render `request` to its files (default `output/<script-stem>.mp3`) and return what was written.

    One render at a time per track: a second render into the same output (its stem: every format,
    the captions, the sections) fails at once, naming the first by its pid, rather than race it.
    A full disk is one `NoSpaceError` naming the folder and about what the files need."""
    targets = outputs_for(request.output_path, request.settings.formats, default_stem(request.script_path, request.sections))
    with claim_output(targets[0][1]):
        try:
            return _render(request, cache_dir=cache_dir, synthesizer=synthesizer, progress=progress, strict=strict)
        except OSError as exc:  # out of room elsewhere than the outputs (the speech cache): named by its folder
            if not is_no_space(exc):
                raise
            raise no_space(Path(exc.filename).parent if exc.filename else targets[0][1].parent, None) from None


@contextlib.contextmanager
def claim_output(path: Path) -> Iterator[None]:
    """Hold the lock of the track at `path` (`.STEM.lock` beside it) while it renders."""
    check_writable(path)
    stem = path.with_suffix("")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(hold(stem.with_name(f".{stem.name}.lock"), "render"))
        except Held as busy:
            raise BusyError(f"another render is writing this track ({busy.holder.describe()})", "wait for it to finish, or render to another -o",
                            path=str(path)) from None  # fmt: skip
        yield


def needed_bytes(targets: Sequence[tuple[Format, Path]], bitrates: Sequence[str | None], duration_s: float, cover: Path | None, split: bool) -> int:
    """About what the files of a render take: each format at its rate, the cover in each file's tags,
    tags and captions; twice with the sections split (each section is a file of its own too)."""
    audio = sum(estimated_bytes(fmt, bitrate, duration_s) for (fmt, _), bitrate in zip(targets, bitrates))
    cover_bytes = Path(cover).stat().st_size if cover is not None and Path(cover).is_file() else 0
    return audio * (2 if split else 1) + len(targets) * (cover_bytes + 64_000)


@contextlib.contextmanager
def _full_disk_reported(folder: Path, need: int, what: str) -> Iterator[None]:
    """A write that runs out of room becomes one NoSpaceError naming the folder (entered first, so
    it reports after every temporary file has been removed and the earlier files are as they were)."""
    try:
        yield
    except Exception as exc:
        if not is_no_space(exc):
            raise
        raise no_space(folder, need, what=what) from None


def _render(
    request: RenderRequest, *, cache_dir: Path | None = None, synthesizer: Synthesizer | None = None, progress: Progress | None = None, strict: bool = False
) -> RenderResult:
    targets = outputs_for(request.output_path, request.settings.formats, default_stem(request.script_path, request.sections))
    bitrates = [fmt.bitrate(request.settings.bitrate) for fmt, _ in targets]  # each format checks its own range
    for _, path in targets:
        check_writable(path)
    stem = targets[0][1].with_suffix("")
    captions_path = stem.with_name(stem.name + ".vtt") if request.captions else None
    if request.cover is not None:
        check_cover(Path(request.cover))
    loaded = load(request, strict)
    _warm_up_while_speaking()
    with _speech_cache(synthesizer, cache_dir, loaded[1].engine or DEFAULT_ENGINE) as speech:
        prepared = prepare(request, speech, progress, loaded)
    plan, script, settings = prepared.plan, prepared.script, prepared.settings
    target_lufs = float(settings.loudness_lufs if settings.loudness_lufs is not None else -16.0)
    title = request.title or script.title

    # The voice is the anchor: measured alone, as laid out, it is brought to the target; the bed and
    # the bells keep their levels relative to it. With no voice, they are set relative to the target.
    voice_raw_lufs = voice_lufs(plan, speech.load)
    reference = voice_raw_lufs if voice_raw_lufs is not None else target_lufs
    gain_db = target_lufs - reference
    # The limiter holds a peaky voice's peaks, and the voice loses loudness with them: each ceiling's
    # gain makes up for it before the first encode, not after it was measured in the written file.
    gains_db = {c: gain_through_limiter(plan, speech.load, gain_db, c, target_lufs) for c in {fmt.ceiling_dbtp for fmt, _ in targets}} if voice_raw_lufs is not None else {}
    chapters = plan.chapter_frames(at_interval_bells=request.bell_chapters)
    tags = Tags(
        title,
        request.artist or script.author,
        request.album or script.title,
        script.description,
        request.track,
        Path(request.cover) if request.cover is not None else None,
        tuple(Chapter(name, a / SAMPLE_RATE, b / SAMPLE_RATE) for name, a, b in chapters),
    )
    need, names = needed_bytes(targets, bitrates, plan.duration_s, request.cover, request.split_sections), ", ".join(p.name for _, p in targets)
    check_space(targets[0][1].parent, need, what=names)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_full_disk_reported(targets[0][1].parent, need, names))
        outputs = [Output.start(fmt, stack.enter_context(atomic_path(path)), path, bitrate, gains_db.get(fmt.ceiling_dbtp, gain_db), chapters)
                   for (fmt, path), bitrate in zip(targets, bitrates)]  # fmt: skip
        tmp_vtt = stack.enter_context(atomic_path(captions_path)) if captions_path else None
        master(_mixer(prepared, plan, speech, reference), outputs, target_lufs if voice_raw_lufs is not None else None, progress)
        for output in outputs:
            write_file_tags(output.path, tags, output.format)
        sections: list[WrittenFile] = []
        playlists: list[Path] = []
        if request.split_sections:
            sections, playlists = _split(
                stack, prepared, speech, reference, gain_db, gains_db, targets, bitrates, title, tags, target_lufs if voice_raw_lufs is not None else None, progress
            )
        if tmp_vtt is not None:
            write_vtt(tmp_vtt, [Cue(a, b, text) for a, b, text in plan.cues()])
        written = [WrittenFile.of(output, path, title) for output, (_, path) in zip(outputs, targets)]
    main = written[0]
    return RenderResult(
        output_path=main.path,
        captions_path=captions_path,
        duration_s=plan.duration_s,
        title=title,
        description=script.description,
        artist=tags.artist,
        voice_id=prepared.voice.voice_id,
        transcript=transcript(plan),
        plan=plan,
        voice_lufs=main.voice_lufs,
        track_lufs=main.track_lufs,
        true_peak_dbtp=main.true_peak_dbtp,
        limiter_reduction_db=main.limiter_reduction_db,
        limited_s=main.limited_s,
        synthesized=speech.synthesized,
        outputs=tuple(written),
        sections=tuple(sections),
        playlists=tuple(playlists),
        warnings=tuple(str(w) for w in script.warnings) + tuple(plan.doubled_bell_warnings(script.path)) + prepared.speech_warnings,
        notes=tuple(str(n) for n in script.notes),
    )


def _mixer(prepared: Prepared, plan: Plan, speech: Speakers, reference_lufs: float) -> Mixer:
    """The mix of `plan` (the whole track's, or a section's) with the beds and bells set relative to the voice."""
    return Mixer(
        plan, speech.load,
        beds=_bed_track(prepared, plan, reference_lufs),
        bell=bell_strike(SAMPLE_RATE), bell_gain=db_to_gain(reference_lufs + BELL_RELATIVE_DB - _bell_lufs()),
        soft_bell=bell_strike(SAMPLE_RATE, soft=True),
    )  # fmt: skip


def _bed_track(prepared: Prepared, plan: Plan, reference_lufs: float) -> BedTrack | None:
    """The bed under each run of events (by the bed each event names), crossfaded where it changes."""
    if not prepared.beds:
        return None
    built: dict[str, object] = {}
    runs: list[BedRun] = []
    for event in plan.events:
        spec = prepared.beds.get(event.bed) if event.bed is not None else None
        bed = None
        gain = 0.0
        if spec is not None and event.bed is not None:
            if event.bed not in built:
                built[event.bed] = _bed(spec, plan.n_frames)
            bed, gain = built[event.bed], db_to_gain(reference_lufs + spec.gain_db - BED_REFERENCE_LUFS)
        runs.append(BedRun(event.start_frame, event.end_frame, bed, gain))
    if runs:  # the last run reaches the end of the track (pauses of 0 frames leave no event)
        last = runs[-1]
        runs[-1] = BedRun(last.start_frame, plan.n_frames, last.bed, last.gain)
    return BedTrack(runs, SAMPLE_RATE)


def _split(
    stack: contextlib.ExitStack,
    prepared: Prepared,
    speech: Speakers,
    reference_lufs: float,
    gain_db: float,
    gains_db: Mapping[float, float],
    targets: Sequence[tuple[Format, Path]],
    bitrates: Sequence[str | None],
    title: str,
    tags: Tags,
    target_lufs: float | None,
    progress: Progress | None,
) -> tuple[list[WrittenFile], list[Path]]:
    """Each section as a file of its own, in every format, at the track's gain (so the voice is as loud
    in every lesson), with the bed fading in and out, and one .m3u8 playlist per format."""
    plan = prepared.plan
    chapters = plan.chapter_frames()
    width = max(2, len(str(len(chapters))))
    written: list[WrittenFile] = []
    playlists: list[Path] = []
    entries: dict[str, list[PlaylistEntry]] = {fmt.name: [] for fmt, _ in targets}
    for number, (name, start, end) in enumerate(chapters, start=1):
        if progress:
            progress("sections", (number - 1) / len(chapters))
        sub = plan.sub_plan(start, end)
        outputs = []
        for (fmt, path), bitrate in zip(targets, bitrates):
            stem = path.with_suffix("")
            final = stem.with_name(f"{stem.name}-{number:0{width}d}-{slugify(name, fallback='section')}{fmt.suffix}")
            check_writable(final)
            outputs.append(Output.start(fmt, stack.enter_context(atomic_path(final)), final, bitrate, gains_db.get(fmt.ceiling_dbtp, gain_db)))
        master(_mixer(prepared, sub, speech, reference_lufs), outputs, target_lufs if sub.speech_spans() else None)
        section_title = f"{title}: {name}"
        section_tags = replace(tags, title=section_title, track=(number, len(chapters)), chapters=())
        for output in outputs:
            write_file_tags(output.path, section_tags, output.format)
            written.append(WrittenFile.of(output, output.final, section_title))
            entries[output.format.name].append(PlaylistEntry(output.final.name, sub.duration_s, section_title))
    for index, (fmt, path) in enumerate(targets):
        stem = path.with_suffix("")
        playlist = stem.with_name(f"{stem.name}.m3u8" if index == 0 else f"{stem.name}-{fmt.name}.m3u8")
        write_m3u8(stack.enter_context(atomic_path(playlist)), entries[fmt.name])
        playlists.append(playlist)
    return written, playlists


def plan_script(request: RenderRequest, *, cache_dir: Path | None = None, synthesizer: Synthesizer | None = None, strict: bool = False) -> Plan:
    """The plan `render` would follow for `request` (synthesising only speech not yet cached), with the
    script's warnings `render` would print (a voice that does not speak its language: `strict`, an error)."""
    loaded = load(request, strict)
    _warm_up_while_speaking()
    with _speech_cache(synthesizer, cache_dir, loaded[1].engine or DEFAULT_ENGINE) as speech:
        plan = prepare(request, speech, loaded=loaded).plan
    return replace(plan, warnings=tuple(str(w) for w in loaded[0].warnings))
