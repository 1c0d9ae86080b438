"""The recognised words aligned with the script's sentences: which words of the take read which sentence.

First one sequence alignment of the script's words against the words heard (difflib's longest matching
blocks, both sequences reversed) says roughly where each sentence is. Then each sentence's reading is
the best local alignment (Smith-Waterman) of its words with the words heard between its neighbours'
matches, so that:
- a misheard or missing word leaves the rest of its sentence matched (a sentence is found when at
  least half its words are, or LOW_SCORE of them when they sit in order between its neighbours'
  readings); a dropped small word costs less than an inserted one;
- of two readings of a sentence, the later one wins when they score the same, and a false start
  scores less than the complete reading after it, even when the recogniser mishears the reading's
  first word ("Or, may this meeting be… Or, may this meeting be of real benefit" heard as "… be for?
  May this meeting be to real benefit");
- the words heard next to a reading that no sentence matched are taken in while their letters fit the
  sentence's unmatched words (a misheard first or last word), and one more word run on to it without
  a pause (a word heard as two), but never past the longest pause between two readings (`gaps_s`,
  measured in the take): that is where one sentence ends and the next begins;
- words heard that no sentence claims are extra speech (an aside, a false start), reported with their times.

Pure (no audio): words in, matches out.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .recognise import Word

#: A sentence is found when at least this share of its words is matched.
MIN_SCORE = 0.5
#: …or this share (and two words at least), when its words sit in order between its neighbours' readings.
LOW_SCORE = 0.3

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


def match_sentences(sentences: Sequence[str], words: Sequence[Word], gaps_s: Sequence[float] | None = None) -> Matching:
    """Align `sentences` (the script's, in order) with the `words` heard in the take. `gaps_s[j]`: the
    pause between words j and j + 1 in seconds (the take's quiet there; by default the words' own times)."""
    if gaps_s is None:
        gaps_s = [max(0.0, b.start_s - a.end_s) for a, b in itertools.pairwise(words)]
    # A token no word can equal closes each sentence, so that no matching block runs from one sentence
    # into the next (a false start just after the previous sentence would otherwise extend its block).
    script: list[tuple[str, int]] = [(tok, i) for i, sentence in enumerate(sentences) for tok in [*tokens(sentence), f"\x00{i}"]]
    heard = _joined([(tok, j) for j, word in enumerate(words) for tok in tokens(word.text)], {tok for tok, _ in script})
    a = [tok for tok, _ in reversed(script)]
    b = [tok for tok, _ in reversed(heard)]
    pairs: dict[int, list[int]] = {}
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            si = len(script) - 1 - (block.a + k)
            hj = len(heard) - 1 - (block.b + k)
            pairs.setdefault(script[si][1], []).append(heard[hj][1])
    found: list[SentenceMatch] = []
    low: list[int] = []
    edges: dict[int, tuple[list[str], list[str], set[str]]] = {}
    done = -1  # the last word of the sentence found before
    for index, sentence in enumerate(sentences):
        want = tokens(sentence)
        if not pairs.get(index) or not want:
            low.append(index)
            continue
        # The reading is looked for among the words after the previous sentence's and before the next
        # sentence's first matched word (difflib's blocks keep the order, so every word it matched here is inside).
        following = [min(pairs[i]) for i in range(index + 1, len(sentences)) if pairs.get(i)]
        hi = min(following, default=len(words))
        window = [(tok, j) for tok, j in heard if done < j < hi]
        run = _local_alignment(want, window)
        score = len(run) / len(want)
        if not run or score < MIN_SCORE:
            low.append(index)
            continue
        first, last = run[0][1], run[-1][1]
        # A misheard first or last word is still part of the reading: the words heard next to the run are
        # taken in below, while their letters fit the sentence's unmatched words before (after) the run.
        edges[index] = (want[: run[0][0]], want[run[-1][0] + 1 :], {want[p] for p, _ in run})
        found.append(SentenceMatch(index, first, last, round(min(score, 1.0), 2)))
        done = last
    found, missing = _in_order(sentences, words, found, low, edges)
    found = _taken_in(words, gaps_s, found, edges)
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


#: Alignment scores: a word matched, a word misheard, a script word not heard (a recogniser drops small
#: words: "a", "the"), a word heard that the script does not have (a repeat, an aside: it breaks a reading).
_MATCH, _MISMATCH, _DROPPED, _INSERTED = 2.0, -0.5, -0.5, -1.0


def _local_alignment(want: list[str], window: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """The best local alignment (Smith-Waterman) of a sentence's tokens with the heard (token, word)
    `window`: its matched (token position, word) pairs. Of readings that score the same, the later one:
    the last complete reading of a sentence read twice wins, and a false start scores less than the
    reading after it even when the recogniser mishears the reading's first word."""
    n, m = len(want), len(window)
    if not n or not m:
        return []
    score = np.zeros((n + 1, m + 1))
    best, at = 0.0, (0, 0)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diagonal = score[i - 1, j - 1] + (_MATCH if want[i - 1] == window[j - 1][0] else _MISMATCH)
            score[i, j] = max(0.0, diagonal, score[i - 1, j] + _DROPPED, score[i, j - 1] + _INSERTED)
            if score[i, j] > best or (score[i, j] == best and best > 0 and j > at[1]):
                best, at = float(score[i, j]), (i, j)
    run: list[tuple[int, int]] = []
    i, j = at
    while i > 0 and j > 0 and score[i, j] > 0:
        same = want[i - 1] == window[j - 1][0]
        if score[i, j] == score[i - 1, j - 1] + (_MATCH if same else _MISMATCH):
            if same:
                run.append((i - 1, window[j - 1][1]))
            i, j = i - 1, j - 1
        elif score[i, j] == score[i - 1, j] + _DROPPED:
            i -= 1
        else:
            j -= 1
    run.reverse()
    # Two tokens of one word ("I'm" as "i", "m") count once.
    return list({word: (pos, word) for pos, word in run}.values())


#: Words heard this close (seconds of quiet between them) belong to one stretch of speech.
JOINED_PAUSE_S = 0.3
#: The sentence's own last (first) word heard this far on (back) ends (starts) its reading there, however many words away.
EDGE_REACH_S = 1.5
#: …and this many words run on to a reading are taken in beyond the letters that fit (a word heard as two).
JOINED_WORDS = 1


def _taken_in(words: Sequence[Word], gaps_s: Sequence[float], found: list[SentenceMatch], edges) -> list[SentenceMatch]:
    """Each reading with the unclaimed words heard next to it that are its own: a misheard first or last
    word (whose letters fit the sentence's unmatched words there), and speech run on to it without a
    pause (a first word the recogniser split, "Whenever" heard as "When then") unless it repeats a word
    of the reading (a false start read straight on). Between two readings, neither goes past the
    longest pause between them: that is where one sentence ends and the next begins."""
    ordered = sorted(found, key=lambda m: m.first_word)
    out = {}
    for k, m in enumerate(ordered):
        before, after, matched = edges.get(m.index, ([], [], set()))
        prev = ordered[k - 1] if k else None
        nxt = ordered[k + 1] if k + 1 < len(ordered) else None
        lo = _split(gaps_s, prev.last_word, m.first_word) + 1 if prev else 0
        hi = _split(gaps_s, m.last_word, nxt.first_word) if nxt else len(words) - 1
        first = _extend_over(words, gaps_s, m.first_word, -1, lo, before, matched)
        last = _extend_over(words, gaps_s, m.last_word, 1, hi, after, matched)
        out[m.index] = SentenceMatch(m.index, first, last, m.score)
    return [out[m.index] for m in found]


def _split(gaps_s: Sequence[float], last_word: int, first_word: int) -> int:
    """The word after which the longest pause between `last_word` and `first_word` falls (the later of two as long)."""
    best = last_word
    for j in range(last_word, first_word):
        if gaps_s[j] >= gaps_s[best]:
            best = j
    return best


def _extend_over(words, gaps_s, word: int, step: int, limit: int, unmatched: list[str], matched: set[str]) -> int:
    """`word` moved by `step`, no further than `limit`: to the sentence's last (first) word heard a
    few words on (back), or else over words whose letters fit those of the `unmatched` script tokens (and one or two more, for at most twice their count), then over words
    joined to it without a pause that repeat none of the `matched` tokens (JOINED_WORDS of them at most)."""
    budget = sum(len(tok) for tok in unmatched) + 2 if unmatched else 0
    count = 2 * len(unmatched)
    joined = JOINED_WORDS
    if unmatched:
        # The sentence's own last (first) word, heard as it is a few words on, ends (starts) the reading there.
        edge = unmatched[-1] if step > 0 else unmatched[0]
        # A few words on, or further within EDGE_REACH_S (a recogniser looping: "but in their mind, but in
        # their mind, but in their person." for "… but the person.").
        here, reach, j = words[word], [], word + step
        while 0 <= j < len(words) and (j - limit) * step <= 0:
            away_s = words[j].start_s - here.end_s if step > 0 else here.start_s - words[j].end_s
            if abs(j - word) > count + 2 and away_s > EDGE_REACH_S:
                break
            reach.append(j)
            j += step
        # Back, not across the reading's own words heard again on the way: that is a false start ("friend, a child,
        # or friend, a child, or even an animal" for "A friend, a child, or even an animal"), not a misheard word.
        anchored = [j for j in reach if edge in tokens(words[j].text) and not (step < 0 and _repeats_any(words, j, word, matched))]
        if anchored:
            return anchored[-1]
    while (word + step - limit) * step <= 0 and 0 <= word + step < len(words):
        nxt = word + step
        toks = tokens(words[nxt].text)
        size = sum(len(tok) for tok in toks)
        if count > 0 and size <= budget:
            budget -= size
            count -= 1
        elif joined > 0 and gaps_s[min(word, nxt)] < JOINED_PAUSE_S and not matched.intersection(toks):
            count, joined = 0, joined - 1
        else:
            break
        word = nxt
    return word


def _repeats_any(words: Sequence[Word], j: int, word: int, matched: set[str]) -> bool:
    """Whether a word strictly between words `j` and `word` (either order) is one of the `matched` tokens."""
    lo, hi = sorted((j, word))
    return any(matched.intersection(tokens(words[k].text)) for k in range(lo + 1, hi))


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


def _in_order(sentences: Sequence[str], words: Sequence[Word], found: list[SentenceMatch], low: list[int], edges) -> tuple[list[SentenceMatch], list[int]]:
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
        run = _local_alignment(want, heard)
        if len(run) < 2 or len(run) < LOW_SCORE * len(want):
            # Many words misheard in a row break a local alignment ("has lain awake at night" heard as
            # "felt a way cut out"): the words matched in order anywhere in the gap are the reading then.
            blocks = difflib.SequenceMatcher(None, want, [tok for tok, _ in heard], autojunk=False).get_matching_blocks()
            run = list({heard[block.b + k][1]: (block.a + k, heard[block.b + k][1]) for block in blocks for k in range(block.size)}.values())
        score = len(run) / len(want) if want else 0.0
        if len(run) < 2 or score < LOW_SCORE:
            missing.append(index)
            continue
        edges[index] = (want[: run[0][0]], want[run[-1][0] + 1 :], {want[p] for p, _ in run})
        by_index[index] = SentenceMatch(index, run[0][1], run[-1][1], round(score, 2))
    return [by_index[i] for i in sorted(by_index)], missing
