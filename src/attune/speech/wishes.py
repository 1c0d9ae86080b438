"""What a teacher asks for, in their words: `--voice female`, `male`, `es`, `en-GB`, `heart`, `en-GB female`.

A wish is a set of words: a gender, a language code, or a voice's name. `fits` says whether a voice
(its name, language and declared gender) grants it. Language codes are compared the BCP 47 way,
case and `_`/`-` aside: `en` fits `en-US` and `en-GB`; `en-GB` fits only `en-GB`. Light: no engine here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

GENDER_WORDS = {"female": "female", "woman": "female", "women": "female", "male": "male", "man": "male", "men": "male"}
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*", re.IGNORECASE)


def norm_language(code: str) -> str:
    """`en_us` → `en-us`: lower case, hyphens."""
    return code.strip().lower().replace("_", "-")


def primary(code: str) -> str:
    return norm_language(code).split("-")[0]


def language_fits(have: str, want: str) -> bool:
    """A voice speaking `have` speaks `want`: the same language, and the same region when `want` names one."""
    have_n, want_n = norm_language(have), norm_language(want)
    return have_n == want_n or have_n.startswith(want_n + "-") or (primary(have_n) == primary(want_n) and "-" not in want_n)


def same_language(a: str, b: str) -> bool:
    """The same language, whatever the region (`en-GB` and `en-US`; not `es` and `en`)."""
    return primary(a) == primary(b)


@dataclass(frozen=True)
class Wish:
    """The words of a wish, sorted out: names, language codes, a gender."""

    names: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    gender: str | None = None

    def describe(self) -> str:
        """`female en-GB`: the wish in the order a teacher would say it."""
        return " ".join([*(self.names), *([self.gender] if self.gender else []), *self.languages]) or "any"

    def with_language(self, language: str | None) -> Wish:
        """The wish, with `language` (the script's) when it names none itself."""
        if self.languages or not language:
            return self
        return Wish(self.names, (language,), self.gender)


def parse_wish(spec: str, known_names: Iterable[str]) -> Wish | None:
    """The wish `spec` says, or None when a word of it is none of a gender, a language code or a known
    voice name (an engine's own voice id, a name fragment, a path: for that engine to resolve)."""
    names = {name.lower() for name in known_names}
    out_names: list[str] = []
    languages: list[str] = []
    gender = None
    words = [w for w in re.split(r"[\s,]+", spec.strip()) if w]
    if not words:
        return None
    for word in words:
        lower = word.lower()
        if lower in GENDER_WORDS:
            if gender is not None and gender != GENDER_WORDS[lower]:
                return None
            gender = GENDER_WORDS[lower]
        elif lower in names:
            out_names.append(lower)
        elif (_LANGUAGE.fullmatch(word) and len(primary(word)) == 2) or re.fullmatch(r"[a-z]{2,3}[-_][a-z0-9]{2,8}", lower):
            languages.append(word)
        else:
            return None
    return Wish(tuple(out_names), tuple(languages), gender)


def fits(wish: Wish, names: Iterable[str], language: str, gender: str | None) -> bool:
    """Whether a voice called any of `names`, speaking `language`, of `gender` (None: undeclared), grants `wish`."""
    lowered = {n.lower() for n in names}
    if wish.names and not all(name in lowered for name in wish.names):
        return False
    if wish.languages and not any(language_fits(language, want) for want in wish.languages):
        return False
    return wish.gender is None or gender == wish.gender
