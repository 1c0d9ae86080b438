"""attune.speech.cache: every sentence synthesised once, stored atomically, never a failed clip."""

import pytest

from attune.errors import SpeechError
from attune.speech.cache import SpeechCache
from attune.speech.engines.base import VoiceSettings
from helpers.fakes import VOICE, FakeSynthesizer


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
