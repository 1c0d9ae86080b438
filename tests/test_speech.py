"""The speech layer: clip validation, the cache, and the worker's time limits (with fake workers)."""

import sys
import textwrap

import numpy as np
import pytest

from attune.errors import SpeechError, VoiceError
from attune.speech.cache import SpeechCache
from attune.speech.clips import process_clip
from attune.speech.engines.base import VoiceSettings
from attune.speech.engines.pyttsx3 import Pyttsx3Synthesizer
from attune.speech.voices import VoiceInfo, filter_voices, resolve_voice
from attune.timebase import SAMPLE_RATE
from helpers.fakes import FakeSynthesizer

VOICE = VoiceSettings("gmw/en-us", 140.0, 50)


def tone(seconds, rate=22050, lead=0.1, tail=0.3):
    t = np.arange(int(seconds * rate)) / rate
    body = 0.5 * np.sin(2 * np.pi * 200 * t)
    return np.concatenate([np.zeros(int(lead * rate)), body, np.zeros(int(tail * rate))])


def test_clip_is_trimmed_resampled_and_faded():
    clip = process_clip(tone(1.0), 22050, "one two", 140)
    assert clip.dtype == np.float32
    # 1 s of sound, plus the 20 ms and 40 ms margins, at 44.1 kHz.
    assert clip.shape[0] == pytest.approx(1.06 * SAMPLE_RATE, abs=0.011 * SAMPLE_RATE)
    assert abs(clip[0]) < 1e-3 and abs(clip[-1]) < 1e-3
    assert np.max(np.abs(clip)) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("samples, message", [
    (np.zeros(0), 'the speech engine returned no audio for "Hello there." — try again; if it persists, run `attune doctor`'),
    (np.zeros(22050), 'the speech engine returned no audio for "Hello there." — try again; if it persists, run `attune doctor`'),
    (np.full(22050, 1e-5), 'the speech engine returned silence for "Hello there." — try again; if it persists, run `attune doctor`'),
])
def test_empty_or_silent_speech_is_an_error(samples, message):
    with pytest.raises(SpeechError) as info:
        process_clip(samples, 22050, "Hello there.", 140)
    assert str(info.value) == message


def test_truncated_speech_is_an_error():
    # Twelve words cannot be spoken in 0.2 s, and audio that stops mid-sound was cut off.
    with pytest.raises(SpeechError, match=r"truncated audio .*\(0\.2\ds for 12 words\)"):
        process_clip(tone(0.2, tail=0.1), 22050, "one two three four five six seven eight nine ten eleven twelve", 140)
    with pytest.raises(SpeechError, match="truncated"):
        process_clip(tone(2.0, tail=0.0), 22050, "one two", 140)


def test_cache_synthesises_each_sentence_once(tmp_path):
    synth = FakeSynthesizer()
    cache = SpeechCache(synth, tmp_path)
    keys = cache.ensure(["One.", "Two.", "One."], VOICE)
    assert synth.calls == ["One.", "Two."]
    assert cache.synthesized == 2
    again = SpeechCache(synth, tmp_path)
    assert again.ensure(["Two.", "One."], VOICE) == keys
    assert synth.calls == ["One.", "Two."] and again.synthesized == 0
    # Another voice, rate or pitch is another clip.
    again.ensure(["One."], VoiceSettings("gmw/en-us", 160.0, 50))
    assert synth.calls[-1] == "One."
    assert again.frames(keys["One."]) == again.load(keys["One."]).shape[0]


@pytest.mark.parametrize("failure, fragment", [("empty", "wrote no audio"), ("silent", "returned no audio"), ("truncated", "truncated")])
def test_cache_never_stores_failed_speech(tmp_path, failure, fragment):
    cache = SpeechCache(FakeSynthesizer(fail_with=failure), tmp_path)
    with pytest.raises(SpeechError, match=fragment):
        cache.ensure(["Hello there, how are you today?"], VOICE)
    assert not list(tmp_path.rglob("*.npy"))


def fake_worker(tmp_path, body):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_hung_engine_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr("attune.speech.worker.SPEAK_TIMEOUT_S", 1.0)
    argv = fake_worker(tmp_path, """
        import sys, json, time
        for line in sys.stdin:
            req = json.loads(line)
            if req["op"] == "hello":
                print(json.dumps({"ok": True}), flush=True)
            else:
                time.sleep(60)
    """)
    synth = Pyttsx3Synthesizer(argv)
    with pytest.raises(SpeechError) as info:
        synth.synthesize("Hello.", VOICE, tmp_path / "x.wav")
    assert str(info.value).startswith('the speech engine did not answer within 1s while speaking "Hello."')
    assert synth._proc is None  # the hung worker was killed


def test_crashing_engine_is_reported(tmp_path):
    argv = fake_worker(tmp_path, """
        import sys
        sys.stderr.write("Segmentation fault in libespeak\\n")
        sys.exit(139)
    """)
    with pytest.raises(SpeechError) as info:
        Pyttsx3Synthesizer(argv).voices()
    assert str(info.value) == "the speech engine stopped while starting (Segmentation fault in libespeak) — run `attune doctor`"


VOICES = [VoiceInfo("gmw/en-us", "English (America)", ("en-us",)), VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",)),
          VoiceInfo("roa/es", "Spanish (Spain)", ("es",)), VoiceInfo("roa/es-419", "Spanish (Latin America)", ("es-419",))]


@pytest.mark.parametrize("spec, expected", [
    ("gmw/en-us", "gmw/en-us"), ("en-us", "gmw/en-us"), ("EN-US", "gmw/en-us"), ("en-gb", "gmw/en"), ("es", "roa/es"),
    ("latin", "roa/es-419"), ("en-us+f3", "gmw/en-us+f3"), ("gmw/en+m2", "gmw/en+m2"), (None, "gmw/en-us"),
])
def test_resolve_voice(spec, expected):
    assert resolve_voice(spec, VOICES, variants=["f3", "m2"]) == expected


@pytest.mark.parametrize("spec, message", [
    ("klingon", "unknown voice 'klingon' — Run `attune voices` to list them"),
    ("en-uss", "unknown voice 'en-uss' — did you mean en-us? Run `attune voices` to list them"),
    ("english", "voice 'english' matches several voices: English (America) (gmw/en-us), English (Great Britain) (gmw/en) — give an id from `attune voices`"),
    ("en-us+f9", "unknown voice variant '+f9' — did you mean +f3? See `attune voices`"),
])
def test_resolve_voice_errors(spec, message):
    with pytest.raises(VoiceError) as info:
        resolve_voice(spec, VOICES, variants=["f3", "m2"])
    assert str(info.value) == message


def test_language_default_and_filter():
    assert resolve_voice(None, VOICES, language="es") == "roa/es"
    assert [v.id for v in filter_voices(VOICES, "es")] == ["roa/es", "roa/es-419"]
    assert [v.id for v in filter_voices(VOICES, "en")] == ["gmw/en-us", "gmw/en"]


def test_cache_writers_sharing_a_pid_do_not_collide(tmp_path, monkeypatch):
    # Machines and containers sharing a cache repeat PIDs: temporary names must not come from them.
    import os
    import threading

    monkeypatch.setattr(os, "getpid", lambda: 4242)
    caches = [SpeechCache(FakeSynthesizer(), tmp_path) for _ in range(4)]
    errors = []

    def work(cache):
        try:
            cache.ensure([f"Sentence {n}." for n in range(6)], VOICE)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(cache,)) for cache in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(list(tmp_path.rglob("*.npy"))) == 6
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".part", ".tmp"))]
