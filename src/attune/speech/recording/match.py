"""The recognised words aligned with the script's sentences: which words of the take read which sentence.

One sequence alignment of the script's words against the words heard (difflib's longest matching
blocks, both sequences reversed), so that:
- a misheard or missing word leaves the rest of its sentence matched (a sentence is found when at
  least half its words are, in one run with few words between them, or LOW_SCORE of them when they
  sit in order between its neighbours' readings), and a misheard first or last word still belongs to
  the reading (the unmatched words heard next to the run are taken in, as long as they fit);
- of two readings of a sentence, the later one wins: reversed, the last reading comes first, and
  difflib takes the first of equally long matches; a false start is shorter than a complete reading
  (each sentence ends in a token nothing matches, so no block runs on into a neighbour);
- words heard that no sentence claims are extra speech (an aside, a false start), reported with their times.

Pure (no audio): words in, matches out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .recognise import Word

#: A sentence is found when at least this share of its words is matched.
MIN_SCORE = 0.5
#: …or this share (and two words at least), when its words sit in order between its neighbours' readings.
LOW_SCORE = 0.3
#: Unmatched words heard inside one reading of a sentence (misheard, inserted) before the run breaks.
MAX_INSERTED_WORDS = 3

_NUMBERS = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                           "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]))  # fmt: skip


def tokens(text: str) -> list[str]:
    """Words as compared: lower case, apostrophes dropped, hyphens split, small numbers spelled out,
    a plural `s` dropped (`breaths` and `breath` compare equal)."""
    out = []
    for raw in re.findall(r"[\w'’]+", text.lower().replace("-", " ")):
        word = raw.replace("'", "").replace("’", "").replace("_", "")
        if word.isdigit():
            word = _NUMBERS.get(int(word), word)
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word:
            out.append(word)
    return out


@dataclass(frozen=True)
class SentenceMatch:
    """Where sentence `index` was read: the heard words `first_word..last_word` (inclusive), and the
    share of its words matched (1.0: every word)."""

    index: int
    first_word: int
    last_word: int
    score: float


@dataclass(frozen=True)
class ExtraSpeech:
    """Words heard that no sentence claims: `first_word..last_word` (inclusive)."""

    first_word: int
    last_word: int


@dataclass(frozen=True)
class Matching:
    found: tuple[SentenceMatch, ...]
    missing: tuple[int, ...]
    extra: tuple[ExtraSpeech, ...]


def match_sentences(sentences: Sequence[str], words: Sequence[Word]) -> Matching:
    """Align `sentences` (the script's, in order) with the `words` heard in the take."""
    # A token no word can equal closes each sentence, so that no matching block runs from one sentence
    # into the next (a false start just after the previous sentence would otherwise extend its block).
    script: list[tuple[str, int]] = [(tok, i) for i, sentence in enumerate(sentences) for tok in [*tokens(sentence), f"\x00{i}"]]
    heard = _joined([(tok, j) for j, word in enumerate(words) for tok in tokens(word.text)], {tok for tok, _ in script})
    a = [tok for tok, _ in reversed(script)]
    b = [tok for tok, _ in reversed(heard)]
    pairs: dict[int, list[tuple[int, int]]] = {}
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            si = len(script) - 1 - (block.a + k)
            hj = len(heard) - 1 - (block.b + k)
            pairs.setdefault(script[si][1], []).append((si, heard[hj][1]))
    first_token: dict[int, int] = {}
    for pos, (_, i) in enumerate(script):
        first_token.setdefault(i, pos)
    matched_words = {j for found_pairs in pairs.values() for _, j in found_pairs}
    found: list[SentenceMatch] = []
    low: list[int] = []
    for index, sentence in enumerate(sentences):
        n = len(tokens(sentence))
        run = _best_run(sorted(pairs.get(index, [])))
        score = len(run) / n if n else 0.0
        if not run or score < MIN_SCORE:
            low.append(index)
            continue
        # A misheard first or last word is still part of the reading: take in the unmatched words heard
        # just before (after) the run that are no longer than the sentence's unmatched words before
        # (after) it (a word may be heard as two: "either" as "I'm a").
        before = [tok for tok, _ in script[first_token[index] : run[0][0]]]
        after = [tok for tok, _ in script[run[-1][0] + 1 : first_token[index] + n]]
        first = _take_in(words, matched_words, run[0][1], -1, before)
        last = _take_in(words, matched_words, run[-1][1], 1, after)
        found.append(SentenceMatch(index, first, last, round(min(score, 1.0), 2)))
    found, missing = _in_order(sentences, words, found, low)
    claimed: set[int] = set()
    for m in found:
        claimed.update(range(m.first_word, m.last_word + 1))
    extra: list[ExtraSpeech] = []
    for j in range(len(words)):
        if j in claimed or not tokens(words[j].text):
            continue
        if extra and extra[-1].last_word == j - 1:
            extra[-1] = ExtraSpeech(extra[-1].first_word, j)
        else:
            extra.append(ExtraSpeech(j, j))
    return Matching(tuple(found), tuple(missing), tuple(extra))


def _best_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of matched (script token, heard word) pairs with few heard words between them
    (the later run when two are as long): one reading, not a word borrowed from another."""
    runs: list[list[tuple[int, int]]] = []
    for pair in pairs:
        if runs and 0 <= pair[1] - runs[-1][-1][1] <= (pair[0] - runs[-1][-1][0]) + MAX_INSERTED_WORDS:
            runs[-1].append(pair)
        else:
            runs.append([pair])
    best: list[tuple[int, int]] = []
    for run in runs:
        if len(run) >= len(best):
            best = run
    return best


def _joined(heard: list[tuple[str, int]], vocabulary: set[str]) -> list[tuple[str, int]]:
    """Two heard tokens that spell one script word together ("what ever": "whatever") as that word."""
    out: list[tuple[str, int]] = []
    k = 0
    while k < len(heard):
        if k + 1 < len(heard) and heard[k][0] + heard[k + 1][0] in vocabulary:
            out.append((heard[k][0] + heard[k + 1][0], heard[k][1]))
            k += 2
        else:
            out.append(heard[k])
            k += 1
    return out


def _in_order(sentences: Sequence[str], words: Sequence[Word], found: list[SentenceMatch], low: list[int]) -> tuple[list[SentenceMatch], list[int]]:
    """Sentences matched below MIN_SCORE, looked for again among the words heard between their
    neighbours' readings: a short sentence read fast loses its small words to the recogniser ("a
    conversation, a message, a worry" heard as "conversation message well"), so a reading that sits
    in order there is accepted with LOW_SCORE of its words (and at least two). Returns (found, missing)."""
    by_index = {m.index: m for m in found}
    missing: list[int] = []
    for index in low:
        before = [m for i, m in by_index.items() if i < index]
        after = [m for i, m in by_index.items() if i > index]
        lo = max((m.last_word for m in before), default=-1) + 1
        hi = min((m.first_word for m in after), default=len(words))
        claimed = {j for m in by_index.values() for j in range(m.first_word, m.last_word + 1)}
        gap = [j for j in range(lo, hi) if j not in claimed]
        want = tokens(sentences[index])
        heard = _joined([(tok, j) for j in gap for tok in tokens(words[j].text)], set(want))
        blocks = difflib.SequenceMatcher(None, want, [tok for tok, _ in heard], autojunk=False).get_matching_blocks()
        matched = [heard[block.b + k][1] for block in blocks for k in range(block.size)]
        score = len(matched) / len(want) if want else 0.0
        if len(matched) < 2 or score < LOW_SCORE:
            missing.append(index)
            continue
        # The unmatched words between the first and last matched ones are the reading's too, and as many
        # before (after) them as the sentence has unmatched words before (after) its first (last) match.
        first, last = min(matched), max(matched)
        lead = blocks[0].a if blocks and blocks[0].size else 0
        trail = len(want) - (blocks[-2].a + blocks[-2].size) if len(blocks) >= 2 else 0
        first = _extend(gap, first, -lead)
        last = _extend(gap, last, trail)
        by_index[index] = SentenceMatch(index, first, last, round(score, 2))
    return [by_index[i] for i in sorted(by_index)], missing


def _extend(gap: list[int], word: int, count: int) -> int:
    """`word` moved `count` unclaimed words of `gap` on (back, when negative), through neighbours only."""
    step = 1 if count > 0 else -1
    for _ in range(abs(count)):
        if word + step not in gap:
            break
        word += step
    return word


def _take_in(words: Sequence[Word], matched: set[int], word: int, step: int, unmatched: list[str]) -> int:
    """`word` moved by `step` over unmatched heard words while their letters fit those of the script's
    `unmatched` words (and one or two more), never beyond the count of those words twice."""
    budget = sum(len(tok) for tok in unmatched) + 2 if unmatched else 0
    for _ in range(2 * len(unmatched)):
        nxt = word + step
        if not 0 <= nxt < len(words) or nxt in matched:
            break
        size = sum(len(tok) for tok in tokens(words[nxt].text))
        if size > budget:
            break
        budget -= size
        word = nxt
    return word
