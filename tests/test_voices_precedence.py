"""One voice choice everywhere: `render` (and `plan`, which loads as it does), `batch --dry-run` and
`check` choose a section's own voice from a teacher's words the same way, name a voice that does not
speak the script's language the same way (`--strict`: an error), and never replace an engine named
above (a flag, a roster's `defaults:` or track, the script's `engine:`) with a wish's choice.

Cheap: the choice reads package files and JSON only; no engine speaks here (the voice check lists
espeak-ng's voices once).
"""

from __future__ import annotations

import pytest

pytest.importorskip("hibari")
pytest.importorskip("py_nanotts")

from attune.errors import VoiceError
from attune.render import load
from attune.request import RenderRequest
from attune.script import load_script
from attune.settings import TrackSettings
from attune.speech.choice import section_voice
from helpers.cli import invoke

#: A Spanish script: the track's voice from `language: es`; section Dos asks for hibari's heart (English).
RESPIRA = """\
title: Respira
language: es
sections:
  - name: Uno
    text: Respira despacio. [pause 2s]
  - name: Dos
    voice: heart
    text: Suelta los hombros. [pause 2s]
  - name: Tres
    voice: female
    text: Descansa. [pause 2s]
"""
SECTION_WARNING = (
    "{script}:6: section Dos: the voice heart (hibari) speaks en-US, not the script's language es — "
    "voices that fit: es-ES (pico, es-ES); or drop the voice and Attune picks one"
)
TRACK_WARNING = (
    "{script}:2: the voice en-us (pyttsx3) speaks en-us, not the script's language es — "
    "voices that fit: es-ES (pico, es-ES); or drop the voice and Attune picks one"
)


@pytest.fixture
def respira(tmp_path):
    path = tmp_path / "respira.yaml"
    path.write_text(RESPIRA, encoding="utf-8")
    return path


def roster(tmp_path, defaults: str) -> object:
    path = tmp_path / "roster.yaml"
    path.write_text(
        f"practitioner: Kim\ntitle: Week\ndefaults: {defaults}\nclients:\n  - name: Ana\n    tracks:\n      - script: respira.yaml\n", encoding="utf-8"
    )
    return path


def test_check_applies_a_sections_own_voice_as_render_does(respira):
    expected = SECTION_WARNING.format(script=respira)
    # render and plan: the warnings `load` gives the script (no speech yet)
    assert [str(w) for w in load(RenderRequest(respira))[0].warnings] == [expected]
    warned = invoke("check", respira)
    assert warned.exit_code == 0 and warned.stderr == f"Warning: {expected}\n", warned.output
    strict = invoke("check", "--strict", respira)
    assert strict.exit_code == 1 and strict.stderr == f"Error: {expected}\n"
    with pytest.raises(VoiceError) as raised:
        load(RenderRequest(respira), strict=True)
    assert str(raised.value) == expected


def test_a_sections_words_choose_among_the_voices_when_no_engine_is_named(respira):
    script = load_script(respira)
    track = load(RenderRequest(respira))[1]
    chosen = [section_voice(s, track, script, engine_named=False)[0] for s in script.sections]
    # Uno: the track's voice, from `language: es`; Dos: heart by name; Tres: `female` in Spanish is Pico's es-ES.
    assert [(s.engine, s.voice) for s in chosen] == [("pico", "es-ES"), ("hibari", "heart"), ("pico", "es-ES")]


def test_batch_dry_run_names_a_voice_that_does_not_speak_the_language_as_plan_does(tmp_path, respira, shared_engine_cache):
    respira.write_text("title: Respira\nlanguage: es\nsections:\n  - text: Respira despacio. [pause 2s]\n", encoding="utf-8")
    path = roster(tmp_path, "{engine: pyttsx3, voice: en-us}")
    plan = invoke("plan", respira, "--engine", "pyttsx3", "--voice", "en-us", "--cache-dir", shared_engine_cache)
    assert plan.exit_code == 0, plan.output
    plan_warning = TRACK_WARNING.format(script=respira)
    assert f"Warning: {plan_warning}" in plan.stderr.splitlines()
    dry = invoke("batch", path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    # The roster's place first (which client, which track), then the plan's very words.
    assert dry.stderr.splitlines() == [f"Warning: {path}:7: Ana / 01-respira: {plan_warning}"]
    strict = invoke("batch", path, "--dry-run", "--strict")
    assert strict.exit_code == 1 and strict.stderr.splitlines() == [f"Error: {path}:7: Ana / 01-respira: {plan_warning}"]
    # --strict without --dry-run: checked first, nothing rendered.
    refused = invoke("batch", path, "--strict", "-o", tmp_path / "deliver")
    assert refused.exit_code == 1 and f"Error: {path}:7: Ana / 01-respira: {plan_warning}" in refused.stderr
    assert not (tmp_path / "deliver").exists()


def test_an_engine_named_above_is_never_replaced_by_a_sections_wish(tmp_path, respira):
    respira.write_text(RESPIRA.replace("  - name: Dos\n    voice: heart\n    text: Suelta los hombros. [pause 2s]\n", ""), encoding="utf-8")
    script = load_script(respira)
    tres = script.sections[1]  # `voice: female`
    espeak = section_voice(tres, TrackSettings(engine="pyttsx3").resolved(), script, engine_named=True)[0]
    assert (espeak.engine, espeak.voice) == ("pyttsx3", "es+f3")  # espeak-ng's Spanish, a female variant
    pico = section_voice(tres, TrackSettings(engine="pico").resolved(), script, engine_named=True)[0]
    assert (pico.engine, pico.voice) == ("pico", "female")  # Pico takes the words itself: es-ES
    # Piper's voices declare no gender: an error naming the engine, at the section's line, in every command.
    expected = (
        f"{respira}:6: no installed Piper voice is female es, and the engine piper is named for this voice — name a Piper voice"
        " (`attune voices --engine piper`), or an engine that has one (`engine: hibari`) beside the section's voice"
    )
    with pytest.raises(VoiceError) as raised:
        load(RenderRequest(respira, settings=TrackSettings(engine="piper")))
    assert str(raised.value) == expected
    path = roster(tmp_path, "{engine: piper}")
    dry = invoke("batch", path, "--dry-run")
    assert dry.exit_code == 1 and dry.stderr.splitlines()[0] == f"Error: {path}:7: Ana / 01-respira: {expected}"
    # A neural voice's name under another engine named above: whose it is, not "unknown".
    respira.write_text(RESPIRA, encoding="utf-8")
    with pytest.raises(VoiceError) as raised:
        load(RenderRequest(respira, settings=TrackSettings(engine="pyttsx3")))
    assert str(raised.value) == (
        f"{respira}:6: the voice heart is hibari's, but the engine pyttsx3 is named for it — write `engine: hibari` beside the voice, or drop the engine named above it"
    )
