"""Mastering: one mixing pass into every format's encoder, each file measured and, if need be, encoded again.

Each block of the mix is rendered once and limited once per output, with that output's gain (the
codec's own level change compensated) and ceiling (headroom for the codec's overshoot), then
written to that output's ffmpeg, which decodes what it encoded as it goes (a loopback decoder: the
samples the file decodes to) into that output's meters, so each file is measured during its encode,
with no second read of it. A file that comes out
over the true-peak limit is encoded again with more headroom, and one whose voice moved from the
target with the difference corrected; only those files are made again, never one delivered over
the ceiling.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..audio.limiter import LIMITER_CONTEXT_FRAMES, LimiterStats, limit_block
from ..audio.mix import Mixer, db_to_gain, windows
from ..errors import AudioError
from ..formats import Format
from ..plan import Plan
from ..timebase import SAMPLE_RATE
from .encode import Encoder, encoder_gain_db, set_opus_output_gain
from .measure import Measurement, StreamMeasure, measure_file

#: The true peak every delivered file stays at or under, as decoded and measured.
PEAK_LIMIT_DBTP = -1.0
#: Our own measurement must show this much more headroom, so that another meter (ffmpeg's ebur128
#: resamples to 192 kHz where we use the Annex 2 filter) cannot find the file over the limit.
PEAK_MARGIN_DB = 0.2
#: A voice measured further than this from the target in the written file is encoded again with the
#: difference corrected (heavy limiting, or a loud bed under the speech, can move it).
VOICE_TOLERANCE_LU = 0.3
#: An Opus file corrected in its header goes at least this much under the limit and margin (the
#: next measurement must pass; the header's step is 1/256 dB, rounded down).
OPUS_HEADER_MARGIN_DB = 0.05
#: At most this many encodes of one file (the first, and corrections).
MAX_MASTERING_PASSES = 3
#: A decoded file may differ from the plan by at most this much (a codec that pads or trims more is a bug).
LENGTH_TOLERANCE_S = 0.001

#: Frames of codec padding that an encoder's loopback decoder passes on and the file itself trims (an
#: MP4 edit list; measured: 688 frames at 44.1 kHz): at most one AAC frame and its priming.
LOOPBACK_PADDING_FRAMES = {"m4a": 2048, "m4b": 2048}

#: Progress callbacks receive (stage, fraction done).
Progress = Callable[[str, float], None]


@dataclass
class Output:
    """One file being mastered: where it is written (a temporary path), how, and what it measured."""

    format: Format
    #: Where the encoder writes (a temporary file), and the file it becomes (for messages).
    path: Path
    final: Path
    bitrate: str | None
    #: The gain and limiter ceiling of the next encode (dB; the ceiling before the codec).
    gain_db: float
    ceiling_dbtp: float
    #: (title, start frame, end frame) for containers whose chapters the encoder writes (MP4).
    chapters: Sequence[tuple[str, int, int]] = ()
    stats: LimiterStats = field(default_factory=LimiterStats)
    measured: Measurement | None = None
    encodes: int = 0
    #: The output gain set in the file's header after its encode (Opus only; dB, 0.0 when untouched).
    header_gain_db: float = 0.0

    @staticmethod
    def start(fmt: Format, path: Path, final: Path, bitrate: str | None, gain_db: float, chapters: Sequence[tuple[str, int, int]] = ()) -> Output:
        """An output whose gain brings the mix to the target through this codec, with its ceiling."""
        codec_db = encoder_gain_db(fmt.name, fmt.bitrate(bitrate))
        return Output(fmt, path, final, fmt.bitrate(bitrate), gain_db - codec_db, fmt.ceiling_dbtp - codec_db, chapters)



def master(mixer: Mixer, outputs: Sequence[Output], target_lufs: float | None, progress: Progress | None = None) -> None:
    """Encode every output from one pass over the mix, measure each, and encode again the ones that
    need it. `target_lufs` is the voice's target (None for a track with no voice). Raises AudioError
    for a file that stays over the ceiling after MAX_MASTERING_PASSES encodes."""
    pending = list(outputs)
    for attempt in range(MAX_MASTERING_PASSES):
        _encode(mixer, pending, progress, "encoding" if attempt == 0 else "re-encoding")
        for output in pending:
            _correct_in_header(output, mixer.plan, target_lufs)
        pending = [output for output in pending if _correct(output, target_lufs)]
        if not pending:
            return
    for output in pending:
        measured = output.measured
        if measured is not None and measured.true_peak_dbtp > PEAK_LIMIT_DBTP - PEAK_MARGIN_DB:
            raise AudioError(
                f"the encoded {output.format.name} file peaks at {measured.true_peak_dbtp:.1f} dBTP, over the {PEAK_LIMIT_DBTP:g} dBTP ceiling, "
                f"after {MAX_MASTERING_PASSES} encodes",
                "try a higher --bitrate or a lower --loudness; please report this",
                path=str(output.final),
            )


def _encode(mixer: Mixer, outputs: Sequence[Output], progress: Progress | None, stage: str) -> None:
    """One mixing pass: every block, limited once per output with its own gain and ceiling, into its
    encoder; each encoder decodes what it encoded, in the same process, into that output's meters."""
    total = max(mixer.n_frames, 1)
    written = 0
    plan = mixer.plan
    with contextlib.ExitStack() as stack:
        encoders = []
        for output in outputs:
            output.stats = LimiterStats()
            output.encodes += 1
            output.header_gain_db = 0.0
            rate = output.format.sample_rate
            spans = [(round(a * rate / plan.sample_rate), round(b * rate / plan.sample_rate)) for a, b in plan.speech_spans()]
            meters = StreamMeasure(spans, rate, limit_frames=_planned_frames(plan, rate))
            encoders.append(stack.enter_context(Encoder(output.path, output.format, output.bitrate, SAMPLE_RATE, chapters=output.chapters, measure=meters)))
        gains = [db_to_gain(output.gain_db) for output in outputs]
        for window in windows(mixer):
            for output, encoder, gain in zip(outputs, encoders, gains):
                block = limit_block(window, output.ceiling_dbtp, SAMPLE_RATE, gain, output.stats)
                encoder.write(block)
            written += window.shape[0] - 2 * LIMITER_CONTEXT_FRAMES
            if progress:
                progress(stage, min(written / total, 1.0))
    for output, encoder in zip(outputs, encoders):
        assert encoder.measure is not None
        output.measured = _measured(output, encoder.measure, plan)


def _planned_frames(plan: Plan, sample_rate: int) -> int:
    return round(plan.n_frames * sample_rate / plan.sample_rate)


def measured_stream(meters: StreamMeasure) -> Measurement:
    """What the decoded stream measured (a seam for tests)."""
    return meters.result()


def _measured(output: Output, meters: StreamMeasure, plan: Plan) -> Measurement:
    """The file's measurement, its length checked against the plan: the decoded stream must hold the
    planned frames (the AAC loopback may pass on up to one frame of the padding the file trims)."""
    measured = measured_stream(meters)
    extra = meters.frames_seen - _planned_frames(plan, measured.sample_rate)
    allowed = LOOPBACK_PADDING_FRAMES.get(output.format.name, 0) + LENGTH_TOLERANCE_S * measured.sample_rate
    if abs(measured.duration_s - plan.duration_s) > LENGTH_TOLERANCE_S or extra > allowed:
        decoded_s = max(measured.n_frames, meters.frames_seen - LOOPBACK_PADDING_FRAMES.get(output.format.name, 0)) / measured.sample_rate
        raise AudioError(
            f"the encoded {output.format.name} file decodes to {decoded_s:.3f}s, not the planned {plan.duration_s:.3f}s",
            "this is a bug in Attune's encoder settings; please report it",
            path=str(output.final),
        )
    return measured


def _correct_in_header(output: Output, plan: Plan, target_lufs: float | None) -> None:
    """An Opus file over the peak limit, or with its voice off the target, is corrected by its
    header's output gain, which decoders apply, when one gain can put both right: no second encode.
    The file is then decoded and measured again (the figures printed are that file's, not a sum).

    Opus at low bitrates does not keep the waveform of limited peaks (measured on the 23-minute
    bench track at 64k: the decoded peak 1.4 dB over a -2.5 dBTP limiter ceiling, and 2.1 dB over
    -3.5, so a lower ceiling buys only a quarter of its dB, and there it took 0.5 LU off the voice,
    which then needed a second encode), while a gain moves every peak and the voice by exactly its dB."""
    measured = output.measured
    if output.format.name != "opus" or measured is None:
        return
    room_db = (PEAK_LIMIT_DBTP - PEAK_MARGIN_DB - OPUS_HEADER_MARGIN_DB) - measured.true_peak_dbtp  # negative: over
    voice_off_db = target_lufs - measured.voice_lufs if target_lufs is not None and measured.voice_lufs is not None else 0.0
    if room_db + OPUS_HEADER_MARGIN_DB >= 0 and abs(voice_off_db) <= VOICE_TOLERANCE_LU:
        return  # good as it is
    gain_db = min(voice_off_db, room_db)
    if abs(voice_off_db - gain_db) > VOICE_TOLERANCE_LU:
        return  # one gain cannot put both right: encoded again instead
    output.header_gain_db = set_opus_output_gain(output.path, gain_db)
    rate = output.format.sample_rate
    spans = [(round(a * rate / plan.sample_rate), round(b * rate / plan.sample_rate)) for a, b in plan.speech_spans()]
    output.measured = measure_file(output.path, spans, sample_rate=rate)


def _correct(output: Output, target_lufs: float | None) -> bool:
    """Adjust the next encode from what the file measured; False when the file is good as it is.

    First the ceiling, when the codec overshot (more headroom for the limiter), else the gain, when
    the voice moved (a loud bed under the speech, or limiting)."""
    measured = output.measured
    if measured is None:  # pragma: no cover - measured before it is corrected
        return True
    over_db = measured.true_peak_dbtp - (PEAK_LIMIT_DBTP - PEAK_MARGIN_DB)
    voice_off_db = target_lufs - measured.voice_lufs if target_lufs is not None and measured.voice_lufs is not None else 0.0
    if over_db <= 0 and abs(voice_off_db) <= VOICE_TOLERANCE_LU:
        return False
    if over_db > 0:
        output.ceiling_dbtp -= over_db + 0.3
    else:
        output.gain_db += voice_off_db
    return True
