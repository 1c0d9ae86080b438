"""Where a several-format render spends its time: one render in this process, every stage timed.

`python bench/formats_breakdown.py SCRIPT --length 23m --format mp3,m4a,opus` (run by
`bench/formats.py` on its 23-minute track, or alone on any script). It times, in the render's own
process: the mixer, the limiter, writing into the encoders' pipes (time spent there is time an
encoder was behind), waiting for the encoders to finish, each file's measurement, each re-encode;
and the CPU of every ffmpeg the render started (from wait4), by what it did: encode or decode.
The figures are wall and CPU seconds; on a busy machine the wall figures stretch, the CPU ones less.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path


class Clock:
    """Wall and this-thread CPU seconds, summed per label."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def time(self, label: str):
        w, c = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.wall[label] += time.perf_counter() - w
            self.cpu[label] += time.thread_time() - c
            self.calls[label] += 1


def _wrap(clock: Clock, owner, name: str, label: str) -> None:
    real = getattr(owner, name, None)
    if real is None:  # a stage this version of Attune does not have
        return

    def timed(*args, **kwargs):
        with clock.time(label):
            return real(*args, **kwargs)

    setattr(owner, name, timed)


def breakdown(script: Path, length: str, formats: str, background: str = "drone", cache_dir: Path | None = None) -> dict:
    """Render once with every stage timed; return the figures (and print them)."""
    import attune.media.encode as encode
    import attune.media.master as master
    import attune.media.measure as measure
    from attune.audio.mix import Mixer
    from attune.durations import parse_duration
    from attune.formats import parse_formats
    from attune.render import render
    from attune.request import RenderRequest
    from attune.settings import TrackSettings

    clock = Clock()
    children: list[tuple[str, float]] = []  # (what the ffmpeg did, its CPU seconds)
    started: dict[int, str] = {}
    real_waitpid = os.waitpid

    def waitpid(pid, options):  # every child's rusage, as it is reaped (subprocess reaps with waitpid)
        got, status, usage = os.wait4(pid, options)
        if got and got in started:
            children.append((started.pop(got), usage.ru_utime + usage.ru_stime))
        return got, status

    os.waitpid = waitpid  # type: ignore[assignment]
    real_start = master.Encoder.__enter__

    def enter(self):
        out = real_start(self)
        started[self._proc.pid] = f"encode {self.format.name}"
        return out

    master.Encoder.__enter__ = enter  # type: ignore[method-assign]
    real_procs_start = measure.procs.start

    def procs_start(argv, **kwargs):
        proc = real_procs_start(argv, **kwargs)
        if "pipe:1" in argv and "-i" in argv:
            started.setdefault(proc.pid, "decode a written file")
        return proc

    measure.procs.start = procs_start  # type: ignore[assignment]
    _wrap(clock, Mixer, "render", "mix (Mixer.render)")
    _wrap(clock, master, "limit_block", "limit (limit_block, every output)")
    _wrap(clock, encode.Encoder, "write", "write to the encoders' pipes")
    _wrap(clock, encode.Encoder, "__exit__", "wait for the encoders to finish")
    _wrap(clock, master, "_measure", "decode and measure each file (summed)")
    _wrap(clock, master, "_correct_in_header", "Opus header gain and its measurement")
    _wrap(clock, master, "_encode", "mixing passes (_encode)")
    stages: dict[str, float] = defaultdict(float)
    last = [time.perf_counter(), "prepare"]

    def progress(stage: str, _fraction: float) -> None:
        now = time.perf_counter()
        stages[last[1]] += now - last[0]
        last[:] = [now, stage]

    names = parse_formats(formats)
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"attune-breakdown-{os.getpid()}"
    out.mkdir(exist_ok=True)
    rusage0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    failed = None
    try:
        result = render(
            RenderRequest(script, out / f"track.{names[0]}", TrackSettings(length_s=parse_duration(length), background=background, formats=names)),
            cache_dir=cache_dir,
            progress=progress,
        )
    except Exception as exc:  # the breakdown is printed either way
        failed, result = exc, None
    finally:
        os.waitpid = real_waitpid  # type: ignore[assignment]
    wall = time.perf_counter() - start
    stages[last[1]] += time.perf_counter() - last[0]
    rusage1 = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = rusage1.ru_utime + rusage1.ru_stime - rusage0.ru_utime - rusage0.ru_stime
    for path in out.iterdir():
        path.unlink()
    out.rmdir()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"where the time goes: {formats}, {length} (one render in-process; load {load:.1f})")
    print(f"  {'whole render':<44}{wall:8.2f} s wall, {own_cpu:6.2f} s CPU in Python, {sum(c for _, c in children):6.2f} s CPU in ffmpeg")
    for stage, seconds in stages.items():
        print(f"  stage {stage:<38}{seconds:8.2f} s wall")
    for label in clock.wall:
        print(f"  {label:<44}{clock.wall[label]:8.2f} s wall {clock.cpu[label]:8.2f} s CPU   ({clock.calls[label]} calls)")
    per: dict[str, list[float]] = defaultdict(list)
    for what, cpu in children:
        per[what].append(cpu)
    for what, cpus in per.items():
        print(f"  ffmpeg {what:<37}{sum(cpus):8.2f} s CPU   ({len(cpus)} runs)")
    if failed is not None:
        print(f"  the render FAILED: {failed}")
    for written in result.outputs if result is not None else ():
        print(f"  {written.format}: {written.encodes} encode(s), peak {written.true_peak_dbtp:.2f} dBTP, voice {written.voice_lufs} LUFS")
    return {
        "wall_s": wall,
        "python_cpu_s": own_cpu,
        "ffmpeg_cpu_s": sum(c for _, c in children),
        "stages_s": dict(stages),
        "timed_wall_s": dict(clock.wall),
        "timed_cpu_s": dict(clock.cpu),
        "ffmpeg_cpu_by_job_s": {k: sum(v) for k, v in per.items()},
        "encodes": {w.format: w.encodes for w in result.outputs} if result is not None else None,
        "failed": str(failed) if failed is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", type=Path)
    parser.add_argument("--length", default="23m")
    parser.add_argument("--format", default="mp3,m4a,opus")
    parser.add_argument("--background", default="drone")
    args = parser.parse_args()
    cache = os.environ.get("ATTUNE_CACHE_DIR")
    breakdown(args.script, args.length, args.format, args.background, Path(cache) if cache else None)


if __name__ == "__main__":
    sys.exit(main())
