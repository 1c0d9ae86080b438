"""attune.media.encode: blocks streamed to ffmpeg decode to the same length and level."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from attune.media.encode import PIPE_BYTES, Encoder, encoder_gain_db
from attune.timebase import SAMPLE_RATE
from helpers.audio import decode

SR = SAMPLE_RATE


def tone_blocks(seconds: float, block_frames: int = 65536):
    t = np.arange(int(seconds * SR)) / SR
    x = np.repeat((0.25 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)[:, None], 2, axis=1)
    return x, [x[i : i + block_frames] for i in range(0, len(x), block_frames)]


@pytest.mark.parametrize("fmt", ["mp3", "wav"])
def test_streamed_blocks_decode_to_the_same_length_and_level(tmp_path, fmt):
    x, blocks = tone_blocks(7.3)
    out = tmp_path / f"t.{fmt}"
    with Encoder(out, fmt) as encoder:
        for block in blocks:
            encoder.write(block)
    audio, sr = decode(out)
    assert sr == SR and audio.shape[0] == x.shape[0]  # exact: the MP3's encoder delay and padding are trimmed
    level_db = 20 * np.log10(np.sqrt(np.mean(audio[SR:-SR] ** 2)) / np.sqrt(np.mean(x[SR:-SR] ** 2)))
    assert level_db == pytest.approx(encoder_gain_db(fmt, "128k"), abs=0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe capacity is set on Linux only")
def test_encoder_pipe_holds_two_blocks(tmp_path):
    import fcntl

    with Encoder(tmp_path / "t.mp3") as encoder:
        assert fcntl.fcntl(encoder._proc.stdin.fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        encoder.write(np.zeros((1000, 2), dtype=np.float32))


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus", "flac"])
def test_the_loopback_measurement_is_the_files_own_decode(tmp_path, fmt):
    """The encoder's loopback decoder hands the meters exactly the samples the written file decodes
    to (bit for bit; measured: for M4A the loopback also passes on 688 frames of padding that the
    file's edit list trims, which the meters stop short of), so measuring it is measuring the file."""
    from attune.formats import FORMATS
    from attune.media.measure import StreamMeasure, measure_file

    rate = FORMATS[fmt].sample_rate
    rng = np.random.default_rng(7)
    x = (0.3 * rng.standard_normal((int(2.5 * SR), 2))).astype(np.float32)  # noise: every codec works hard on it
    planned = round(len(x) * rate / SR)
    spans = [(rate // 4, rate)]
    meters = StreamMeasure(spans, rate, limit_frames=planned)
    out = tmp_path / f"t.{fmt}"
    with Encoder(out, fmt, measure=meters) as encoder:
        encoder.write(x)
    audio, sr = decode(out)
    assert sr == rate and len(audio) == planned
    assert 0 <= meters.frames_seen - planned <= 2048
    looped, filed = meters.result(), measure_file(out, spans, sample_rate=rate)
    assert looped == filed  # every figure equal, not close: the same samples
