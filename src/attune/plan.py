"""Fit a script to a length and lay out its timeline, in whole samples.

`make_plan` is pure: it takes the parsed script and the length of every spoken sentence (in
frames, from the speech cache) and returns the timeline that rendering follows sample for sample.
Elastic pauses stretch in proportion to their minimums (a pause shorter than 1 s counts as 1 s),
each within its bounds; when even the shortest version is too long, optional sections are dropped,
the last one first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .durations import MAX_DURATION_S, format_duration
from .errors import LengthError
from .script import Bell, Pause, Script, Section, Speech, count_words, split_sentences
from .timebase import SAMPLE_RATE

#: Silence between two sentences of one passage, and between passages with no marker between them.
SENTENCE_GAP_S = 0.75
PASSAGE_GAP_S = 1.25
#: The time a [bell] event occupies: the strike rings out in it, and nothing else is spoken.
BELL_DURATION_S = 7.0
BELL_FRAMES = round(BELL_DURATION_S * SAMPLE_RATE)
#: An elastic pause stretches in proportion to max(its minimum, this).
MIN_STRETCH_WEIGHT_S = 1.0
#: Interval bells keep this far from both edges of the pause they ring in.
INTERVAL_BELL_MARGIN_S = 60.0


@dataclass(frozen=True)
class Sentence:
    """One spoken sentence inside a speech event, with its clip's cache key."""

    text: str
    offset_frames: int
    n_frames: int
    clip_key: str


@dataclass(frozen=True)
class Event:
    """One thing on the timeline: "speech", "pause", "bell" or "interval_bell" (a softer strike in a long pause)."""

    kind: str
    start_frame: int
    n_frames: int
    section: str
    text: str = ""
    sentences: tuple[Sentence, ...] = ()
    #: Who speaks it (speech events), e.g. "pyttsx3 gmw/en-us 140 wpm"; None when not known (an estimate).
    voice: str | None = None
    #: The background bed under it (a key of the render's beds, e.g. "drone -22 dB"); None: no bed.
    bed: str | None = None

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.n_frames

    @property
    def start_s(self) -> float:
        return self.start_frame / SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return self.n_frames / SAMPLE_RATE


@dataclass(frozen=True)
class Plan:
    """The timeline of a track: events back to back, from frame 0 to `n_frames`."""

    events: tuple[Event, ...]
    n_frames: int
    min_s: float
    max_s: float | None
    dropped_sections: tuple[str, ...] = ()
    sample_rate: int = SAMPLE_RATE
    #: The lengths this script fits, as every command shows them (`fits_text`): "between 7s and 11s".
    fits: str = ""
    #: `(line, "start"|"end")` of each edge `[bell]` also asked as the opening/closing bell: one rings (the caller warns).
    doubled_bells: tuple[tuple[int, str], ...] = ()
    #: The script's and the voice choice's warnings (`FILE:LINE: what — how`), printed by `plan` as by `render`.
    warnings: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sample_rate

    def to_json(self) -> dict:
        """The `attune plan --json` document; times rounded to the millisecond."""
        return {
            "duration_s": round(self.duration_s, 3),
            "min_s": round(self.min_s, 3),
            "max_s": None if self.max_s is None else round(self.max_s, 3),
            "fits": self.fits,
            "events": [
                {
                    "kind": e.kind,
                    "start_s": round(e.start_s, 3),
                    "duration_s": round(e.duration_s, 3),
                    "section": e.section,
                    "text": e.text,
                    "voice": e.voice,
                    "bed": e.bed,
                }
                for e in self.events
            ],
        }

    def doubled_bell_warnings(self, path: str) -> list[str]:
        """`FILE:LINE: …` for each edge `[bell]` that the opening or closing bell was also asked at."""
        out = []
        for line, edge in self.doubled_bells:
            which, key = ("opening", "bells: {start: true}") if edge == "start" else ("closing", "bells: {end: true}")
            out.append(
                f"{path}:{line}: [bell] here and the {which} bell ({key} or --bells) are at the same point, so one bell rings"
                f" — remove this [bell], or turn the {which} bell off"
            )
        return out

    def chapter_frames(self, at_interval_bells: bool = False) -> list[tuple[str, int, int]]:
        """(section, start frame, end frame) for each run of events in one section, in order. With
        `at_interval_bells`, each interval bell also starts a chapter, named `Section (15:00)` after
        its time on the track."""
        out: list[list] = []  # [name, start, end, section]
        for e in self.events:
            if at_interval_bells and e.kind == "interval_bell":
                out.append([f"{e.section} ({_clock_name(e.start_s)})", e.start_frame, e.end_frame, e.section])
            elif out and out[-1][3] == e.section:
                out[-1][2] = e.end_frame
            else:
                out.append([e.section, e.start_frame, e.end_frame, e.section])
        return [(name, a, b) for name, a, b, _ in out]

    def chapters(self, at_interval_bells: bool = False) -> list[tuple[str, float, float]]:
        """(section, start_s, end_s) for each run of events in one section, in order."""
        return [(name, a / self.sample_rate, b / self.sample_rate) for name, a, b in self.chapter_frames(at_interval_bells)]

    def sub_plan(self, start_frame: int, end_frame: int) -> Plan:
        """The events from `start_frame` to `end_frame` (on event boundaries, such as a chapter's) as a
        plan of their own, starting at frame 0: a section as a track of its own."""
        events = tuple(replace(e, start_frame=e.start_frame - start_frame) for e in self.events if start_frame <= e.start_frame < end_frame)
        if any(e.end_frame > end_frame - start_frame for e in events):
            raise ValueError(f"frames {start_frame}..{end_frame} cut an event")
        n_frames = end_frame - start_frame
        return Plan(events, n_frames, n_frames / self.sample_rate, n_frames / self.sample_rate, (), self.sample_rate, fits_text([(n_frames, n_frames)]))

    def cues(self) -> list[tuple[float, float, str]]:
        """(start_s, end_s, text) for every spoken sentence."""
        return [
            ((e.start_frame + s.offset_frames) / self.sample_rate, (e.start_frame + s.offset_frames + s.n_frames) / self.sample_rate, s.text)
            for e in self.events
            if e.kind == "speech"
            for s in e.sentences
        ]

    def speech_spans(self) -> list[tuple[int, int]]:
        """(start_frame, end_frame) of every speech event."""
        return [(e.start_frame, e.end_frame) for e in self.events if e.kind == "speech"]


def _clock_name(seconds: float) -> str:
    """`15:00`, `1:05:00`: a time on the track, for chapter names."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class _Slot:
    """A layout item before fitting: fixed length, or an elastic pause with bounds."""

    kind: str
    section: str
    min_frames: float
    max_frames: float | None  # None: open-ended
    text: str = ""
    sentences: tuple[Sentence, ...] = ()
    weight: float = 0.0
    elastic: bool = False
    voice: str | None = None
    bed: str | None = None
    #: Interval bells in this pause: seconds apart, counted from its start (`[bells every …]`) or the track's (`interval_bells:`).
    interval_s: float = 0.0
    from_pause: bool = False


@dataclass(frozen=True)
class SectionSound:
    """How one section sounds: its voice (a label), its bed (a key of the render's beds, None: none),
    and the clip key of each of its sentences (None: the track's `clip_keys`)."""

    voice: str | None = None
    bed: str | None = None
    clip_keys: Mapping[str, str] | None = None


def spoken_sentences(script: Script) -> list[str]:
    """Every sentence the script can speak (all sections), in order, without repeats."""
    out: dict[str, None] = {}
    for section in script.sections:
        for item in section.items:
            if isinstance(item, Speech):
                out.update(dict.fromkeys(split_sentences(item.text)))
    return list(out)


def _frames(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def _layout(
    script: Script,
    keep: Sequence[bool],
    clip_keys: Mapping[str, str],
    clip_frames: Mapping[str, int],
    bell_frames: int,
    bells: tuple[bool, bool],
    sounds: Sequence[SectionSound] | None = None,
    interval_s: float = 0.0,
    doubled: list[tuple[int, str]] | None = None,
) -> list[_Slot]:
    slots: list[_Slot] = []
    kept = [(s, sounds[i] if sounds else SectionSound()) for i, (s, k) in enumerate(zip(script.sections, keep)) if k]
    bells = _one_bell_at_each_edge(kept, bells, doubled)

    def add_gap(section: str, sound: SectionSound) -> None:
        if slots and slots[-1].kind == "speech":
            slots.append(_Slot("pause", section, _frames(PASSAGE_GAP_S), _frames(PASSAGE_GAP_S), bed=sound.bed))

    if bells[0] and kept:
        slots.append(_Slot("bell", kept[0][0].name, bell_frames, bell_frames, bed=kept[0][1].bed))
    for section, sound in kept:
        keys = sound.clip_keys if sound.clip_keys is not None else clip_keys
        for _ in range(section.repeat):
            for item in section.items:
                if isinstance(item, Speech):
                    add_gap(section.name, sound)
                    sentences: list[Sentence] = []
                    offset = 0
                    for text in split_sentences(item.text):
                        if sentences:
                            offset += _frames(SENTENCE_GAP_S)
                        key = keys[text]
                        n = clip_frames[key]
                        sentences.append(Sentence(text, offset, n, key))
                        offset += n
                    if sentences:
                        slots.append(
                            _Slot("speech", section.name, offset, offset, text=item.text, sentences=tuple(sentences), voice=sound.voice, bed=sound.bed)
                        )
                elif isinstance(item, Pause):
                    lo = item.min_s * SAMPLE_RATE
                    hi = None if item.max_s is None else item.max_s * SAMPLE_RATE
                    slot = _Slot("pause", section.name, lo, hi, bed=sound.bed)
                    every = section.settings.interval_bells_s if section.settings.interval_bells_s is not None else interval_s
                    slot.interval_s, slot.from_pause = (item.interval_s, True) if item.interval_s else (every or 0.0, False)
                    if item.elastic:
                        slot.elastic = True
                        slot.weight = max(item.min_s, MIN_STRETCH_WEIGHT_S)
                    slots.append(slot)
                elif isinstance(item, Bell):
                    slots.append(_Slot("bell", section.name, bell_frames, bell_frames, bed=sound.bed))
    if bells[1] and kept:
        slots.append(_Slot("bell", kept[-1][0].name, bell_frames, bell_frames, bed=kept[-1][1].bed))
    return slots


def _one_bell_at_each_edge(kept: Sequence[tuple[Section, SectionSound]], bells: tuple[bool, bool], doubled: list[tuple[int, str]] | None) -> tuple[bool, bool]:
    """The opening (closing) bell where the script's first (last) item is not already a `[bell]`: a
    bell asked twice at the same point rings once. Each one dropped is noted in `doubled`."""
    start, end = bells
    if not kept:
        return bells
    first, last = kept[0][0].items[0], kept[-1][0].items[-1]
    if start and isinstance(first, Bell):
        start = False
        if doubled is not None:
            doubled.append((first.line, "start"))
    if end and isinstance(last, Bell):
        end = False
        if doubled is not None:
            doubled.append((last.line, "end"))
    return start, end


def _interval_onsets(slot: _Slot, start: int, n: int, bell_frames: int) -> list[int]:
    """The frames where interval bells strike in a pause of `n` frames at `start`: every multiple of
    the interval (on the pause's clock or the track's), at least INTERVAL_BELL_MARGIN_S from both edges."""
    if slot.interval_s <= 0:
        return []
    margin = _frames(INTERVAL_BELL_MARGIN_S)
    first, last = start + margin, start + n - margin - bell_frames
    origin = start if slot.from_pause else 0
    k = max(1, math.ceil((first - origin) / (slot.interval_s * SAMPLE_RATE) - 1e-9))
    onsets = []
    while (at := origin + round(k * slot.interval_s * SAMPLE_RATE)) <= last:
        if at >= first:
            onsets.append(at)
        k += 1
    return onsets


def _bounds(slots: Sequence[_Slot]) -> tuple[float, float]:
    lo = sum(s.min_frames for s in slots)
    hi = math.inf if any(s.max_frames is None for s in slots) else sum(s.max_frames for s in slots)  # type: ignore[misc]
    return lo, hi


def _stretch(slots: Sequence[_Slot], slack: float) -> list[float]:
    """Share `slack` frames among elastic slots in proportion to their weights, each within its cap."""
    elastic = [s for s in slots if s.elastic]
    caps = [math.inf if s.max_frames is None else s.max_frames - s.min_frames for s in elastic]
    weights = [s.weight * SAMPLE_RATE for s in elastic]
    # Find f with sum(min(w*f, cap)) == slack: raise f through the breakpoints cap/w in order.
    order = sorted(range(len(elastic)), key=lambda i: caps[i] / weights[i])
    remaining, free_weight, f = slack, sum(weights), 0.0
    for i in order:
        if free_weight <= 0:
            break
        step = caps[i] / weights[i] - f
        if step * free_weight >= remaining:
            break
        remaining -= step * free_weight
        f += step
        free_weight -= weights[i]
    if free_weight > 0:
        f += remaining / free_weight
    extra = {id(s): min(w * f, c) for s, w, c in zip(elastic, weights, caps)}
    return [s.min_frames + extra.get(id(s), 0.0) for s in slots]


class PlanningBug(RuntimeError):
    """The planner could not lay out a length it had found feasible: a bug in Attune, never bad input."""


def _round_preserving_total(slots: Sequence[_Slot], values: Sequence[float], total: int) -> list[int] | None:
    """Round to whole frames summing to `total`; only pauses absorb the rounding (largest remainders
    first). None when the pauses cannot absorb it (the caller reports that as a bug)."""
    out = [math.floor(v) for v in values]
    pauses = sorted((i for i, s in enumerate(slots) if s.kind == "pause"), key=lambda i: values[i] - out[i], reverse=True)
    spare = total - sum(out)
    k = 0
    while spare != 0 and pauses:
        i = pauses[k % len(pauses)]
        step = 1 if spare > 0 else -1
        if out[i] + step >= 0:
            out[i] += step
            spare -= step
        k += 1
        if k > 4 * len(pauses) + abs(spare) * 2:
            break
    return out if spare == 0 else None


def fits_text(intervals: Sequence[tuple[float, float]]) -> str:
    """The lengths that fit, from (shortest, longest) frame counts: "between 7s and 11s", "3m26s or
    longer", joined by ", or ". The one rounding every command uses (plan, check, the impossible-length
    error): the shortest up and the longest down to whole seconds (tenths when no whole second lies
    between), so every length shown can be made."""
    merged: list[list[float]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + SAMPLE_RATE:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])

    def span(lo: float, hi: float) -> str:
        lo_s, hi_s = lo / SAMPLE_RATE, hi / SAMPLE_RATE
        if math.isinf(hi) or hi_s >= MAX_DURATION_S:
            return f"{format_duration(math.ceil(lo_s))} or longer"
        for scale in (1, 10):
            low, high = math.ceil(lo_s * scale - 1e-9) / scale, math.floor(hi_s * scale + 1e-9) / scale
            if low <= high:
                return f"between {format_duration(low)} and {format_duration(high)}" if low < high else f"exactly {format_duration(low)}"
        return f"exactly {format_duration(round(lo_s, 3))}"

    return ", or ".join(span(lo, hi) for lo, hi in merged)


def _fits_message(intervals: Sequence[tuple[float, float]]) -> str:
    return "this script fits " + fits_text(intervals)


def make_plan(
    script: Script,
    clip_keys: Mapping[str, str],
    clip_frames: Mapping[str, int],
    length_s: float | None,
    *,
    bell_frames: int,
    bells: tuple[bool, bool] | None = None,
    sounds: Sequence[SectionSound] | None = None,
    interval_bells_s: float | None = None,
) -> Plan:
    """Fit `script` to `length_s` (None: the script's own length, else every pause at its minimum).

    `clip_keys` maps each sentence to its clip key and `clip_frames` each key to its length;
    `sounds`, one per section, give a section its own voice (and clip keys) and bed.
    `interval_bells_s` (None: the script's own) rings interval bells in long pauses.
    Raises LengthError naming the range that fits when the length cannot be met.
    """
    bells = bells if bells is not None else (bool(script.settings.bells_start), bool(script.settings.bells_end))
    interval_s = float((interval_bells_s if interval_bells_s is not None else script.settings.interval_bells_s) or 0.0)
    doubled: list[tuple[int, str]] = []
    if length_s is None:
        length_s = script.settings.length_s
    optional = [i for i, s in enumerate(script.sections) if s.optional]
    candidates = []
    for dropped in range(len(optional) + 1):
        keep = [True] * len(script.sections)
        for i in optional[len(optional) - dropped :]:
            keep[i] = False
        noted: list[tuple[int, str]] = []
        slots = _layout(script, keep, clip_keys, clip_frames, bell_frames, bells, sounds, interval_s, noted)
        candidates.append((keep, slots, _bounds(slots), noted))
    overall_min = min(b[0] for _, _, b, _ in candidates)
    overall_max = max(b[1] for _, _, b, _ in candidates)

    if length_s is None:
        keep, slots, (lo, _), doubled = candidates[0]
        target = math.ceil(lo)
    else:
        target = _frames(length_s)
        chosen = next(((k, s, b, d) for k, s, b, d in candidates if b[0] <= target + 0.5 and target - 0.5 <= b[1]), None)
        if chosen is None:
            raise LengthError(f"cannot make {format_duration(length_s)} from this script", _fits_message([b for _, _, b, _ in candidates]), path=script.path)
        keep, slots, (lo, _), doubled = chosen
    if target > _frames(MAX_DURATION_S):
        raise LengthError(
            f"the track would be {format_duration(target / SAMPLE_RATE)} long, over the 12h limit",
            "shorten the pauses or pass a shorter --length",
            path=script.path,
        )

    sizes = _stretch(slots, max(0.0, target - lo)) if any(s.elastic for s in slots) else [s.min_frames for s in slots]
    frames = _round_preserving_total(slots, sizes, target)
    if frames is None:
        # A length in the feasible range always rounds to whole frames (pauses absorb up to half a
        # frame each way): reaching here is a bug, never a reason to deliver another length.
        raise PlanningBug(f"{script.path}: the plan for {format_duration(target / SAMPLE_RATE)} ({target} frames) could not be rounded to whole frames")
    events, start = [], 0
    for slot, n in zip(slots, frames):
        if n <= 0 and slot.kind == "pause":
            continue
        at = start
        for onset in _interval_onsets(slot, start, n, bell_frames) if slot.kind == "pause" else ():
            events.append(Event("pause", at, onset - at, slot.section, bed=slot.bed))
            events.append(Event("interval_bell", onset, bell_frames, slot.section, bed=slot.bed))
            at = onset + bell_frames
        events.append(Event(slot.kind, at, start + n - at, slot.section, slot.text, slot.sentences, slot.voice, slot.bed))
        start += n
    dropped_names = tuple(s.name for s, k in zip(script.sections, keep) if not k)
    fits = fits_text([b for _, _, b, _ in candidates])
    max_s = None if math.isinf(overall_max) else overall_max / SAMPLE_RATE
    return Plan(tuple(events), target, overall_min / SAMPLE_RATE, max_s, dropped_names, fits=fits, doubled_bells=tuple(doubled))


#: Seconds a sentence is estimated to take beyond its words at the rate (the clip's own margins).
_ESTIMATE_MARGIN_S = 0.15


def estimated_clip_frames(text: str, rate_wpm: float) -> int:
    """How long a sentence will be when spoken, from its words and the rate: for a plan made before
    (or without) any synthesis. The real clip decides the real plan."""
    return _frames(count_words(text) * 60.0 / max(rate_wpm, 1.0) + _ESTIMATE_MARGIN_S)


def estimated_plan(
    script: Script,
    rate_wpm: float,
    length_s: float | None = None,
    *,
    bell_frames: int = BELL_FRAMES,
    bells: tuple[bool, bool] | None = None,
    interval_bells_s: float | None = None,
) -> Plan:
    """`make_plan` with every sentence's length estimated (`estimated_clip_frames`, at its section's rate
    or `rate_wpm`): what fits, roughly, without the speech engine. Raises LengthError as make_plan does."""
    sounds, frames = [], {}
    for section in script.sections:
        rate = section.settings.rate_wpm or rate_wpm
        keys = {}
        for text in section_sentences(section):
            keys[text] = f"estimate:{rate:g}:{text}"
            frames[keys[text]] = estimated_clip_frames(text, rate)
        sounds.append(SectionSound(clip_keys=keys))
    return make_plan(script, {}, frames, length_s, bell_frames=bell_frames, bells=bells, sounds=sounds, interval_bells_s=interval_bells_s)


def section_sentences(section: Section) -> list[str]:
    """Every sentence `section` speaks, in order, without repeats."""
    out: dict[str, None] = {}
    for item in section.items:
        if isinstance(item, Speech):
            out.update(dict.fromkeys(split_sentences(item.text)))
    return list(out)
