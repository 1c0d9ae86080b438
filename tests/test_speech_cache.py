"""attune.speech.cache: every sentence synthesised once, stored atomically, never a failed clip."""

import os

import numpy as np
import pytest

from attune.errors import SpeechError
from attune.speech.cache import SpeechCache, read_clip_file
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


# -- a damaged cache: truncated and byte-flipped clips are found by their checksum ------------------


def flip_bytes(path, at: int, count: int = 16) -> None:
    """Invert `count` bytes of the file at `at` (a bad sector, a bad copy), keeping its size."""
    with open(path, "r+b") as handle:
        handle.seek(at)
        chunk = handle.read(count)
        handle.seek(at)
        handle.write(bytes(b ^ 0xFF for b in chunk))


def sounding_spans_s(mono: np.ndarray, rate_hz: int, gap_s: float = 0.5) -> list[tuple[float, float]]:
    """(start, end) of each stretch above -50 dBFS (10 ms windows), gaps shorter than `gap_s` bridged."""
    window = rate_hz // 100
    rms = np.sqrt(np.mean(mono[: mono.size // window * window].reshape(-1, window) ** 2, axis=1))
    spans: list[list[float]] = []
    for i in np.flatnonzero(rms > 10 ** (-50 / 20)):
        if spans and i * 0.01 - spans[-1][1] < gap_s:
            spans[-1][1] = (i + 1) * 0.01
        else:
            spans.append([i * 0.01, (i + 1) * 0.01])
    return [(a, b) for a, b in spans]


def test_a_damaged_clip_is_synthesised_again_never_played(tmp_path):
    texts = ["One calm breath.", "Two calm breaths.", "Three calm breaths."]
    synth = FakeSynthesizer()
    first = SpeechCache(synth, tmp_path)
    keys = first.ensure(texts, VOICE)
    intact = {text: first.load(key) for text, key in keys.items()}
    truncated, flipped = first.path(keys[texts[0]]), first.path(keys[texts[1]])
    os.truncate(truncated, truncated.stat().st_size // 2)  # a crash or a full disk mid-write
    flip_bytes(flipped, flipped.stat().st_size // 2)  # same size, samples changed
    with pytest.raises(SpeechError, match="damaged"):  # never returned, even without `ensure`
        first.load(keys[texts[1]])

    again = SpeechCache(synth, tmp_path)
    assert again.ensure(texts, VOICE) == keys
    assert synth.calls[3:] == texts[:2] and again.damaged == 2 and again.synthesized == 2
    for text, key in keys.items():
        assert np.array_equal(again.load(key), intact[text])
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(first.path(k).relative_to(tmp_path).as_posix() for k in keys.values())


@pytest.mark.engine
def test_a_render_over_a_damaged_cache_speaks_every_sentence_whole(tmp_path):
    """Real espeak-ng clips, damaged on disk for real (one cut in half, one with a third of its bytes
    inverted): the re-render finds both, synthesises them again, and speaks each sentence whole."""
    from click.testing import CliRunner

    from attune.cli import cli
    from attune.timebase import SAMPLE_RATE
    from helpers.audio import decode

    script = tmp_path / "practice.yaml"
    script.write_text("title: Damaged cache\nsections:\n  - text: |\n      Breathe in slowly. [pause 1s]\n      Breathe out gently. [pause 1s]\n      Rest here.\n")
    cache = tmp_path / "cache"

    def render(name: str) -> tuple[np.ndarray, str]:
        args = ["render", str(script), "-o", str(tmp_path / name), "--format", "wav", "--cache-dir", str(cache)]
        result = CliRunner().invoke(cli, args, prog_name="attune")
        assert result.exit_code == 0, result.output
        audio, rate_hz = decode(tmp_path / name)
        assert rate_hz == SAMPLE_RATE
        return audio, result.output

    render("before.wav")
    clips = sorted(cache.rglob("*.npy"))
    assert len(clips) == 3
    truncated, flipped = clips[0], clips[1]
    os.truncate(truncated, truncated.stat().st_size // 2)
    flip_bytes(flipped, flipped.stat().st_size // 3, flipped.stat().st_size // 3)
    assert read_clip_file(truncated) is None and read_clip_file(flipped) is None

    after, said = render("after.wav")
    assert "(2 sentences synthesised)" in said
    # What it left: the same three clips, whole again, and nothing else.
    assert sorted(cache.rglob("*.npy")) == clips
    lengths_s = sorted(read_clip_file(p).size / SAMPLE_RATE for p in clips)
    assert not [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".npy" and not p.name.endswith(".json")]
    # Each sentence is in the track whole: three sounding spans as long as the three clips, and the
    # track is exactly what those clips make (a render from the repaired cache synthesises nothing).
    assert np.isfinite(after).all() and np.abs(after).max() < 1.0
    spans_s = sorted(stop - start for start, stop in sounding_spans_s(after.mean(axis=1), SAMPLE_RATE))
    assert len(spans_s) == 3 and all(abs(a - b) < 0.08 for a, b in zip(spans_s, lengths_s, strict=True)), (spans_s, lengths_s)
    again, said = render("again.wav")
    assert "speech from cache" in said and np.array_equal(again, after)
