"""Choosing a voice from a teacher's words: the wish parser, and the choice staying light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from attune.speech.wishes import Wish, fits, language_fits, parse_wish


@pytest.mark.parametrize(
    ("spec", "wish"),
    [
        ("female", Wish(gender="female")),
        ("male", Wish(gender="male")),
        ("es", Wish(languages=("es",))),
        ("en-GB female", Wish(languages=("en-GB",), gender="female")),
        ("heart", Wish(names=("heart",))),
        ("joe", Wish(names=("joe",))),
        ("scotland", None),  # a name fragment for espeak-ng
        ("female male", None),
    ],
)
def test_a_teachers_words_are_sorted_out(spec, wish):
    assert parse_wish(spec, ["heart", "joe", "en-US"]) == wish


def test_languages_fit_the_bcp47_way():
    assert language_fits("en-US", "en") and language_fits("en-GB", "en-gb") and language_fits("en_GB", "en-GB")
    assert not language_fits("en-US", "en-GB") and not language_fits("es-ES", "en")
    assert fits(Wish(languages=("es",), gender="female"), ["es-ES"], "es-ES", "female")
    assert not fits(Wish(gender="male"), ["joe"], "en-US", None)  # an undeclared gender grants no gender


def test_the_speech_identity_of_a_chosen_voice_loads_no_numpy(tmp_path):
    """A batch's parent fingerprints every track: choosing its voice reads package files only."""
    script = tmp_path / "es.yaml"
    script.write_text("title: Hola\nlanguage: es\nsections:\n  - text: Respira.\n", encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from attune.request import RenderRequest, speech_identity\n"
        f"speech_identity(RenderRequest(Path({str(script)!r})))\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'onnxruntime', 'hibari', 'py_nanotts') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
