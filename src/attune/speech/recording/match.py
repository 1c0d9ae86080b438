"""The recognised words aligned with the script's sentences: which words of the take read which sentence.

One sequence alignment of the script's words against the words heard (difflib's longest matching
blocks, both sequences reversed), so that:
- a misheard or missing word leaves the rest of its sentence matched (a sentence is found when at
  least half its words are, in one run with few words between them), and a misheard first or last
  word still belongs to the reading (the unmatched words heard next to the run are taken in);
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
    heard: list[tuple[str, int]] = [(tok, j) for j, word in enumerate(words) for tok in tokens(word.text)]
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
    missing: list[int] = []
    for index, sentence in enumerate(sentences):
        n = len(tokens(sentence))
        run = _best_run(sorted(pairs.get(index, [])))
        score = len(run) / n if n else 0.0
        if not run or score < MIN_SCORE:
            missing.append(index)
            continue
        # A misheard first or last word is still part of the reading: take in as many unmatched words
        # heard just before (after) the run as the sentence has unmatched words before (after) it.
        first, last = run[0][1], run[-1][1]
        for _ in range(run[0][0] - first_token[index]):
            if first - 1 < 0 or first - 1 in matched_words:
                break
            first -= 1
        for _ in range(first_token[index] + n - 1 - run[-1][0]):
            if last + 1 >= len(words) or last + 1 in matched_words:
                break
            last += 1
        found.append(SentenceMatch(index, first, last, round(min(score, 1.0), 2)))
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
