"""One contract for every speech engine: the fake one, pyttsx3 (espeak-ng), Piper (joe), hibari (heart) and SVOX Pico (en-US).

Each engine lists voices, speaks a sentence into a WAV that the clip layer accepts, speaks faster at
a higher rate, serves the cache (a warm ensure synthesises nothing), and survives close() (it starts
again on the next request). The real engines run in their worker processes, as in a render.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from attune.script import count_words
from attune.speech.cache import SpeechCache
from attune.speech.clips import process_clip, read_wav_mono, spoken_span_s
from attune.speech.engines import shared_synthesizer
from attune.speech.engines.base import VoiceSettings
from helpers.fakes import FakeSynthesizer

SENTENCE = "Let your attention rest on the breath, just as it is."
ENGINES = [
    "fake",
    pytest.param("pyttsx3", marks=pytest.mark.engine),
    pytest.param("piper", marks=pytest.mark.engine),
    pytest.param("hibari", marks=pytest.mark.engine),
    pytest.param("pico", marks=pytest.mark.engine),
]


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, tmp_path_factory, shared_engine_cache):
    """(synthesiser, how to make its VoiceSettings at a rate, its name, a clip cache of its own).

    The real engines are this process's shared ones, as in a render (Piper's pace is measured once
    a session, into the shared cache); the clips go to a cache of the module's own, so they are cold."""
    name = request.param
    if name == "piper":
        pytest.importorskip("piper", reason="the attune[piper] extra is not installed: pip install 'attune[piper]'")
    cache_dir = tmp_path_factory.mktemp(f"contract-{name}")
    synth = FakeSynthesizer() if name == "fake" else shared_synthesizer(name, cache_dir=shared_engine_cache)
    cache = SpeechCache(synth, cache_dir)
    base = cache.voice_settings(None, 140.0, None, None, "en")

    def voice(rate_wpm: float) -> VoiceSettings:
        return VoiceSettings(base.voice_id, rate_wpm, base.pitch, base.speaker)

    yield synth, voice, name, cache_dir


def _speak(synth, voice: VoiceSettings, text: str = SENTENCE) -> tuple[float, float]:
    """(spoken span in seconds, clip length in seconds) of `text`."""
    with tempfile.TemporaryDirectory() as scratch:
        wav = Path(scratch) / "s.wav"
        synth.synthesize(text, voice, wav)
        samples, rate_hz = read_wav_mono(wav)
    clip = process_clip(samples, rate_hz, text, voice.rate_wpm)  # raises on empty, silent or truncated speech
    return spoken_span_s(samples, rate_hz), clip.size / 44100


def test_names_itself_and_lists_voices(engine):
    synth, voice, _, _ = engine
    assert synth.engine_id.strip()
    voices = synth.voices()
    assert voices and all(v.id and v.name and v.languages for v in voices)
    assert voice(140).voice_id in {v.id for v in voices} or voice(140).voice_id.split("+")[0] in {v.id for v in voices}


def test_speaks_a_sentence_that_the_clip_layer_accepts(engine):
    synth, voice, _, _ = engine
    spoken_s, clip_s = _speak(synth, voice(140))
    words_s = count_words(SENTENCE) * 60 / 140
    assert 0.4 * words_s < spoken_s < 2.0 * words_s
    assert clip_s >= spoken_s


def test_a_higher_rate_speaks_faster(engine):
    synth, voice, _, _ = engine
    slow, _ = _speak(synth, voice(100))
    fast, _ = _speak(synth, voice(200))
    assert slow / fast > 1.4


def test_serves_the_cache_and_restarts_after_close(engine):
    synth, voice, _, cache_dir = engine
    cache = SpeechCache(synth, cache_dir)
    texts = ["Breathe in.", "Breathe out.", "Rest."]
    keys = cache.ensure(texts, voice(150))
    assert cache.synthesized == 3 and len(set(keys.values())) == 3
    synth.close()
    synth.close()  # twice is harmless
    again = SpeechCache(synth, cache_dir)
    assert again.ensure(texts, voice(150)) == keys and again.synthesized == 0
    assert again.ensure(["And again."], voice(150)) and again.synthesized == 1  # the engine started again


def test_a_named_voice_resolves(engine):
    synth, _, name, cache_dir = engine
    cache = SpeechCache(synth, cache_dir)
    if name == "piper":
        assert Path(cache.voice_settings("joe", 140.0).voice_id).name == "en_US-joe-medium.onnx"
    elif name in ("hibari", "pico"):
        # By name, and by a language code: hibari's heart, Pico's en-US.
        expected = {"hibari": "heart", "pico": "en-US"}[name]
        assert cache.voice_settings(expected, 140.0).voice_id == expected
        assert cache.voice_settings("en-us", 140.0).voice_id == expected
    else:
        if name == "pyttsx3" and not sys.platform.startswith("linux"):
            pytest.skip("the voice ids are espeak-ng's on Linux; SAPI5 and macOS name their own")
        # espeak-ng (and the fake, which copies its listing) names voices by language family: en-us is West Germanic's.
        assert cache.voice_settings("en-us", 140.0).voice_id == "gmw/en-us"
