"""One script's sentences found in one take: recognised (once per take), aligned, cut.

`align_take` returns where each sentence is (its speech, and the clip that will be cut, with its
breath room) and warnings for speech the script does not have; a sentence never read is an error,
one line per sentence, all at once. The words heard are cached by the take's sha256 and the
recogniser, and the alignment by those and the script's text, under `CACHE/recording/`: `attune
align` then `attune render` recognise once, and a render at another length aligns nothing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import AttuneError, ScriptError, combine
from ...system.atomic import write_text
from ...system.files import sha256_file
from ...system.paths import default_cache_dir
from ..clips import excerpt
from . import cuts
from .match import match_sentences
from .recognise import ASR_RATE_HZ, Word, model_identity, recognise, words_from_json, words_to_json
from .take import check_take, decode_take

if TYPE_CHECKING:
    import numpy as np

#: Bump when matching or cutting changes: cached alignments are then made again (words are kept).
ALIGN_VERSION = 6


class RecordingError(ScriptError):
    """A script sentence that the take does not have (or a take that cannot serve the script)."""


@dataclass(frozen=True)
class ScriptSentence:
    """A sentence as the script has it: its text (placeholders filled) and the line it is on."""

    text: str
    line: int


@dataclass(frozen=True)
class AlignedSentence:
    """Where a sentence is in the take: its speech `start_s..end_s`, the clip `clip_start_s..clip_end_s`
    (with breath room), and the share of its words the recogniser matched (`score`, 0.5–1)."""

    text: str
    line: int
    start_s: float
    end_s: float
    clip_start_s: float
    clip_end_s: float
    score: float


@dataclass(frozen=True)
class Alignment:
    take_sha256: str
    sentences: tuple[AlignedSentence, ...]
    #: `TAKE: 1:02.3–1:04.0: speech not in the script is left out ("…") — …`
    warnings: tuple[str, ...] = ()

    def find(self, text: str) -> AlignedSentence | None:
        return next((s for s in self.sentences if s.text == text), None)


def clock(seconds: float) -> str:
    """`1:02.3`: minutes and seconds to a tenth."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def _cache_root(cache_dir: Path | None) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / "recording"


def _read_json(path: Path):
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text("utf-8"))
    return None


def _write_json(path: Path, data) -> None:
    with contextlib.suppress(OSError, AttuneError):  # a read-only cache recognises again next time
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(data))


class _Take:
    """The take decoded for the recogniser once, when first needed."""

    def __init__(self, path: Path):
        self.path = path
        self._samples: np.ndarray | None = None

    @property
    def samples(self) -> np.ndarray:
        if self._samples is None:
            self._samples = decode_take(self.path, ASR_RATE_HZ)
        return self._samples


def heard_words(take: Path | _Take, take_sha256: str, asr_model: str | None, cache_dir: Path | None) -> list[Word]:
    """The words the recogniser hears in `take` (cached by its sha256 and the recogniser)."""
    take = take if isinstance(take, _Take) else _Take(Path(take))
    identity = model_identity(asr_model)
    key = hashlib.sha256(f"{take_sha256}\n{identity}".encode()).hexdigest()
    path = _cache_root(cache_dir) / "words" / key[:2] / f"{key}.json"
    stored = _read_json(path)
    if isinstance(stored, dict) and stored.get("identity") == identity:
        with contextlib.suppress(TypeError, ValueError):
            return words_from_json(stored["words"])
    words = recognise(take.samples, asr_model)
    _write_json(path, {"identity": identity, "take_sha256": take_sha256, "words": words_to_json(words)})
    return words


#: A stretch of the take between two found sentences, this long or more, is heard again when a sentence is missing.
REHEAR_MIN_S = 0.5
REHEAR_MARGIN_S = 0.3
#: A word heard again may reach this far (seconds) over the stretch's ends.
REHEAR_OVERLAP_S = 0.1


def _matched(texts: Sequence[str], words: list[Word], env: cuts.Envelope):
    return match_sentences(texts, words, cuts.pauses_between_words(env, words))


def _heard_again(take: _Take, env: cuts.Envelope, words: list[Word], texts: Sequence[str], asr_model: str | None):
    """Match again after hearing, on their own, the stretches between found sentences where one is
    missing: in a long take the recogniser sometimes drops a sentence (a 30 s window that it cut or
    heard as silence), and a window of its own brings it back. The words heard there replace the
    words first heard there. Returns (words, matching)."""
    matching = _matched(texts, words, env)
    if not matching.missing:
        return words, matching
    found = sorted(matching.found, key=lambda m: m.index)
    stretches = []
    for index in matching.missing:
        before = [m for m in found if m.index < index]
        after = [m for m in found if m.index > index]
        lo = words[before[-1].last_word].end_s if before else 0.0
        hi = words[after[0].first_word].start_s if after else take.samples.size / ASR_RATE_HZ
        if hi - lo >= REHEAR_MIN_S and (lo, hi) not in stretches:
            stretches.append((lo, hi))
    if not stretches:
        return words, matching
    kept = list(words)
    for lo, hi in stretches:
        a, b = max(0.0, lo - REHEAR_MARGIN_S), hi + REHEAR_MARGIN_S
        piece = take.samples[round(a * ASR_RATE_HZ) : round(b * ASR_RATE_HZ)]
        again = [Word(w.text, w.start_s + a, w.end_s + a) for w in recognise(piece, asr_model)]
        # Only the words heard wholly between the two readings: the piece's margins hear the neighbours'
        # first and last words again, often otherwise ("Now, perhaps" as "Yeah, I'll."), beside the words kept for them.
        again = [w for w in again if lo <= (w.start_s + w.end_s) / 2 <= hi and w.start_s >= lo - REHEAR_OVERLAP_S and w.end_s <= hi + REHEAR_OVERLAP_S]
        kept = [w for w in kept if not lo < (w.start_s + w.end_s) / 2 < hi] + again
    kept.sort(key=lambda w: w.start_s)
    return kept, _matched(texts, kept, env)


def align_take(
    sentences: Sequence[ScriptSentence], take: Path, *, script_path: str, take_label: str | None = None, asr_model: str | None = None, cache_dir: Path | None = None
) -> Alignment:
    """Find every sentence of the script in `take`; raise one `RecordingError` line per sentence missing."""
    take = check_take(Path(take), where=script_path)
    label = take_label or str(take)
    take_sha256 = sha256_file(take)
    texts = list(dict.fromkeys(s.text for s in sentences))
    lines: dict[str, int] = {}
    for s in sentences:
        lines.setdefault(s.text, s.line)
    key_material = json.dumps([ALIGN_VERSION, take_sha256, model_identity(asr_model), texts, label])
    key = hashlib.sha256(key_material.encode()).hexdigest()
    path = _cache_root(cache_dir) / "alignments" / key[:2] / f"{key}.json"
    stored = _read_json(path)
    if isinstance(stored, dict):
        with contextlib.suppress(TypeError, ValueError, KeyError):
            aligned = tuple(AlignedSentence(**{**item, "line": lines[item["text"]]}) for item in stored["sentences"])
            return Alignment(take_sha256, aligned, tuple(stored["warnings"]))
    decoded = _Take(take)
    words = heard_words(decoded, take_sha256, asr_model, cache_dir)
    env = cuts.envelope(decoded.samples, ASR_RATE_HZ)
    words, matching = _heard_again(decoded, env, words, texts, asr_model)
    if matching.missing:
        errors: list[AttuneError] = [
            RecordingError(f'"{_first_words(texts[i])}" is not in {label}', "record it, or remove it", path=script_path, line=lines[texts[i]])
            for i in matching.missing
        ]
        raise combine(errors, script_path)
    spans = []
    false_starts: list[tuple[float, float, str]] = []
    for m in matching.found:
        # The neighbouring words bound the search (their times are rough: a recogniser often starts a word early, in the pause before it).
        after_prev = words[m.first_word - 1].start_s if m.first_word > 0 else 0.0
        before_next = words[m.last_word + 1].end_s if m.last_word + 1 < len(words) else env.duration_s
        first, last = words[m.first_word], words[m.last_word]
        start_s, end_s = cuts.speech_edges(env, (first.start_s, first.end_s), (last.start_s, last.end_s), after_prev, before_next)
        reading_s = cuts.after_false_start(env, start_s, end_s, words)
        if reading_s > start_s:
            heard = [w.text for w in words[m.first_word : m.last_word + 1] if _middle(w) < reading_s]
            false_starts.append((start_s, reading_s, " ".join(heard) or "…"))
        spans.append((reading_s, end_s))
    # Edges in take order, so that each clip's breath room stops short of its neighbours'.
    order = sorted(range(len(spans)), key=lambda k: spans[k][0])
    aligned_by_index = {}
    for rank, k in enumerate(order):
        start_s, end_s = spans[k]
        prev_end = spans[order[rank - 1]][1] if rank > 0 else 0.0
        next_start = spans[order[rank + 1]][0] if rank + 1 < len(order) else env.duration_s
        clip_start, clip_end = cuts.clip_bounds(start_s, end_s, prev_end, next_start)
        m = matching.found[k]
        text = texts[m.index]
        aligned_by_index[m.index] = AlignedSentence(text, lines[text], round(start_s, 3), round(end_s, 3), round(clip_start, 3), round(clip_end, 3), m.score)
    warnings = tuple(
        f"{label}: {clock(words[x.first_word].start_s)}–{clock(words[x.last_word].end_s)}: speech not in the script is left out "
        f"({excerpt(' '.join(w.text for w in words[x.first_word : x.last_word + 1]))}) — a false start or an aside; nothing to do if so"
        for x in matching.extra
    ) + tuple(
        f"{label}: {clock(a)}–{clock(b)}: speech not in the script is left out ({excerpt(heard)}) — a false start before the reading after it; nothing to do if so"
        for a, b, heard in false_starts
    )
    alignment = Alignment(take_sha256, tuple(aligned_by_index[i] for i in sorted(aligned_by_index)), warnings)
    _write_json(path, {"sentences": [asdict(s) for s in alignment.sentences], "warnings": list(warnings)})
    return alignment


def _middle(word: Word) -> float:
    return (word.start_s + word.end_s) / 2


def _first_words(text: str, count: int = 6) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def script_sentences(script) -> list[ScriptSentence]:
    """Every sentence `script` speaks, once, in order, with its line (a `attune.script.Script`)."""
    from ...script import Speech
    from ...script.text import sentence_lines

    pieces = [(item.text, item.line) for section in script.sections for item in section.items if isinstance(item, Speech)]
    return [ScriptSentence(text, line) for text, line in sentence_lines(pieces)]
