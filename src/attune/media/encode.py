"""Encode streamed blocks with ffmpeg, one process per output file, in any of Attune's formats.

Blocks go to ffmpeg as float32 through a pipe, so encoding runs on another core while the next
blocks are mixed; with several formats, one process per format (measured: cheaper in wall time
than one ffmpeg with several outputs, for the same CPU). Every container records what decoders
must trim (LAME's delay and padding, AAC's priming through an edit list, Opus's pre-skip and end
granule), so each file decodes to exactly the planned length. ffmpeg writes no tags of its own
(`-fflags +bitexact`, `-map_metadata -1`): Attune's are added afterwards with mutagen. M4A and M4B
get their chapters here, from an ffmetadata file (a QuickTime chapter track and a Nero `chpl`):
mutagen cannot write MP4 chapters.
"""

from __future__ import annotations

import contextlib
import functools
import math
import struct
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import AudioError, NoSpaceError
from ..formats import FORMATS, Format
from ..system import procs
from ..system.ffmpeg import ffmpeg_exe
from ..system.space import ffmpeg_ran_out
from .measure import StreamMeasure, decoded_pcm_args, read_blocks

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: The encoder pipe's capacity where the system lets us set it (Linux's default maximum).
PIPE_BYTES = 1 << 20
_DITHER_TO_16_BIT = ["-af", "aresample=osf=s16:dither_method=triangular"]


def codec_args(fmt: Format, bitrate: str | None) -> list[str]:
    """ffmpeg's output options for `fmt` (after the inputs; before the output path)."""
    if fmt.name == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", str(bitrate), "-f", "mp3", "-write_id3v1", "0"]
    if fmt.name in ("m4a", "m4b"):
        brand = ["-brand", "M4B "] if fmt.name == "m4b" else []
        # Dithered to 16 bits first: the AAC encoder's quantiser loop spends far longer on the
        # float mix's sub-LSB detail (measured: 70 s for 23 minutes from float, 52 s from 16-bit),
        # which no listener hears.
        return [*_DITHER_TO_16_BIT, "-c:a", "aac", "-b:a", str(bitrate), "-f", "ipod", *brand, "-movflags", "+faststart"]
    if fmt.name == "opus":
        # Resampled to 48 kHz and dithered to 16 bits first, then constrained VBR. Fed float, libopus
        # takes the input for 24-bit and spends bits on detail under the 16-bit floor; and its free VBR
        # runs far over the rate asked on a bed that never stops. Measured on a 4-minute render with
        # speech and the drone bed, asked for 64k: float and free VBR 96 kbit/s, 16-bit and free VBR
        # 78 kbit/s, 16-bit and constrained VBR 65 kbit/s (at 32k: 32.2 kbit/s).
        resample = ["-af", f"aresample={fmt.sample_rate}:osf=s16:dither_method=triangular"]
        return [*resample, "-c:a", "libopus", "-b:a", str(bitrate), "-vbr", "constrained", "-ar", str(fmt.sample_rate), "-f", "opus"]
    if fmt.name == "flac":
        return [*_DITHER_TO_16_BIT, "-c:a", "flac", "-f", "flac"]
    if fmt.name == "wav":
        return [*_DITHER_TO_16_BIT, "-c:a", "pcm_s16le", "-f", "wav"]
    raise AssertionError(f"no encoder for {fmt.name}")  # pragma: no cover - every format in FORMATS has one


def _escape_ffmetadata(text: str) -> str:
    for char in ("\\", "=", ";", "#", "\n"):
        text = text.replace(char, "\\" + char)
    return text


def ffmetadata(chapters: Sequence[tuple[str, int, int]], sample_rate: int) -> str:
    """An ffmetadata file of chapters (title, start frame, end frame), in frames of the input."""
    lines = [";FFMETADATA1"]
    for title, start, end in chapters:
        lines += ["[CHAPTER]", f"TIMEBASE=1/{sample_rate}", f"START={start}", f"END={end}", f"title={_escape_ffmetadata(title)}"]
    return "\n".join(lines) + "\n"


class Encoder:
    """`with Encoder(path, fmt, bitrate) as enc: enc.write(block)` — raises AudioError if ffmpeg fails.

    `chapters` (title, start frame, end frame) are written by ffmpeg for formats that store them in
    the container (MP4); other formats get theirs with the tags.
    """

    def __init__(
        self,
        path: Path,
        fmt: Format | str = "mp3",
        bitrate: str | None = None,
        sample_rate: int = 44100,
        channels: int = 2,
        chapters: Sequence[tuple[str, int, int]] = (),
        measure: StreamMeasure | None = None,
    ):
        self.format = fmt if isinstance(fmt, Format) else FORMATS[fmt]
        self.measure = measure
        self.path = Path(path)
        self._metadata: IO[str] | None = None
        inputs = ["-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0"]
        if self.format.chapters == "mp4" and chapters:
            # ffmpeg takes the chapters from a second input. (Not -map_metadata -1 here: with
            # -map_chapters it would also drop the chapter titles and their text track.)
            self._metadata = tempfile.NamedTemporaryFile("w", suffix=".ffmetadata", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
            self._metadata.write(ffmetadata(chapters, sample_rate))
            self._metadata.flush()
            inputs += ["-f", "ffmetadata", "-i", self._metadata.name]
            mapping = ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        else:
            mapping = ["-map_metadata", "-1"]
        self.argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *inputs, *mapping, "-fflags", "+bitexact",
                     *codec_args(self.format, self.format.bitrate(bitrate)), str(path)]  # fmt: skip
        if measure is not None:
            # A loopback decoder: the packets just encoded, decoded again in the same process (the
            # same decoder that reads the file: bit-identical samples, measured in tests) and sent
            # to our meters while the encode runs, so the file is measured without reading it back.
            self.argv += ["-dec", "0:0", "-filter_complex", "[dec:0]anull[decoded]", "-map", "[decoded]",
                          *decoded_pcm_args(measure.sample_rate, measure.channels), "pipe:1"]  # fmt: skip
        self._proc: subprocess.Popen | None = None
        self._stderr: IO[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._reader_error: BaseException | None = None

    def __enter__(self) -> Encoder:
        self._stderr = tempfile.TemporaryFile()
        try:
            stdout = subprocess.PIPE if self.measure is not None else subprocess.DEVNULL
            self._proc = procs.start(self.argv, stdin=subprocess.PIPE, stdout=stdout, stderr=self._stderr, start_new_session=True)
        except OSError as exc:
            self._close_files()
            raise AudioError(f"could not start ffmpeg: {exc}", "run `attune doctor`") from None
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: 1 MiB pipes instead of 64 KiB
            # Two blocks of mix fit in the pipe, so audio passes to ffmpeg in larger pieces:
            # measured, 0.17 s less CPU and 0.3 s less time for a 5-minute render.
            for pipe in (self._proc.stdin, self._proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):  # above the system's pipe-max-size: keep the default
                        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        if self.measure is not None:
            self._reader = threading.Thread(target=self._read_decoded, name=f"measure {self.path.name}", daemon=True)
            self._reader.start()
        return self

    def _read_decoded(self) -> None:
        """The reader thread: every decoded block into the meters, until ffmpeg closes its output.
        It never stops reading before then (ffmpeg would block on a full pipe, and then the writer)."""
        proc, measure = self._proc, self.measure
        assert proc is not None and proc.stdout is not None and measure is not None
        try:
            for block in read_blocks(proc.stdout, measure.channels):
                if self._reader_error is None:
                    measure.add(block)
        except BaseException as exc:  # handed to the thread that waits for this one
            self._reader_error = exc
            with contextlib.suppress(OSError):
                proc.stdout.read()  # drain to the end, so ffmpeg never blocks on us

    def write(self, block: np.ndarray) -> None:
        if self._proc is None or self._proc.stdin is None:
            raise AudioError("the encoder is not running", "this is a bug in Attune")
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(block, dtype="<f4")).cast("B"))  # type: ignore[arg-type]
        except BrokenPipeError:
            self._fail()

    def _fail(self) -> None:
        proc, stderr = self._proc, self._stderr
        if proc is None or stderr is None:  # pragma: no cover - only called while running
            raise AudioError("ffmpeg failed to encode", "run `attune doctor`")
        proc.wait()
        self._join_reader()
        stderr.seek(0)
        tail = stderr.read().decode("utf-8", "replace").strip().splitlines()
        if ffmpeg_ran_out(proc.returncode, "\n".join(tail[-3:])):
            raise NoSpaceError(f"no space left to write {self.path.name}", path=str(self.path.parent))
        raise AudioError(
            f"ffmpeg failed to encode {self.format.name} ({tail[-1] if tail else f'exit code {proc.returncode}'})",
            "check free disk space, then run `attune doctor`",
        )

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join()
            self._reader = None
        if self._proc is not None and self._proc.stdout is not None:
            with contextlib.suppress(OSError):
                self._proc.stdout.close()

    def _close_files(self) -> None:
        for handle in (self._metadata, self._stderr):
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()

    def __exit__(self, exc_type, exc, tb) -> None:
        proc = self._proc
        try:
            if proc is None:
                return
            if exc_type is not None:
                proc.kill()
                proc.wait()
                self._join_reader()
                return
            if proc.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
            self._join_reader()
            proc.wait()
            if proc.returncode != 0:
                self._fail()
            if self._reader_error is not None:
                raise self._reader_error
        finally:
            self._close_files()


@functools.cache
def encoder_gain_db(fmt: str, bitrate: str | None, sample_rate: int = 44100) -> float:
    """The level change the codec itself applies, measured on a 997 Hz tone: LAME scales its input
    by 0.95 (-0.45 dB) at 128 kbit/s and below, less above; AAC and Opus within 0.03 dB. The renderer
    pre-compensates, so the delivered file, not just the PCM sent to ffmpeg, meets the target."""
    spec = FORMATS[fmt]
    if spec.lossless:
        return 0.0
    t = np.arange(sample_rate) / sample_rate
    tone = np.repeat((0.1 * np.sin(2 * np.pi * 997.0 * t)).astype("<f4")[:, None], 2, axis=1)
    with tempfile.TemporaryDirectory(prefix="attune-calibrate-") as scratch:
        path = Path(scratch) / f"tone{spec.suffix}"
        with Encoder(path, spec, bitrate, sample_rate) as encoder:
            encoder.write(tone)
        decode = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar", str(sample_rate), "pipe:1"]
        out = np.frombuffer(subprocess.run(decode, capture_output=True, timeout=60).stdout, dtype="<f4")
    if out.size < sample_rate:
        raise AudioError(f"ffmpeg could not encode a test tone to {fmt}", "run `attune doctor`")
    middle = out[out.size // 4 : 3 * out.size // 4]
    return float(20 * np.log10(np.sqrt(np.mean(middle.astype(np.float64) ** 2)) / (0.1 / np.sqrt(2))))


#: An Ogg Opus file's output gain (OpusHead, RFC 7845 §5.1) is a signed Q7.8 number of dB.
OPUS_GAIN_STEP_DB = 1 / 256


def set_opus_output_gain(path: Path, gain_db: float) -> float:
    """Set the output gain in an Ogg Opus file's header, which every decoder must apply (RFC 7845
    §5.1: ffmpeg, libopusfile, browsers do): a level change without encoding again. Rounded down to
    the header's 1/256 dB step; returns the gain set. The page's checksum is recomputed (by mutagen)."""
    import mutagen.ogg

    steps = math.floor(gain_db / OPUS_GAIN_STEP_DB)
    if not -32768 <= steps <= 32767:
        raise AudioError(f"an Opus output gain of {gain_db:.1f} dB is out of range", "this is a bug in Attune; please report it")
    with open(path, "r+b") as handle:
        page = mutagen.ogg.OggPage(handle)
        head = page.packets[0] if page.packets else b""
        if page.offset != 0 or not head.startswith(b"OpusHead") or len(head) < 19:
            raise AudioError(f"{path.name} does not start with an Opus header", "this is a bug in Attune; please report it", path=str(path))
        page.packets[0] = head[:16] + struct.pack("<h", steps) + head[18:]
        data = page.write()
        handle.seek(0)
        handle.write(data)
    return steps * OPUS_GAIN_STEP_DB
