"""Several formats from one render, against one ffmpeg encoding the track's own PCM to the same formats.

The same 23-minute track (speech cached, drone bed). The floor for three formats is ONE ffmpeg
process encoding Attune's own `--format wav` of the render to MP3, M4A and Opus with the codec
settings Attune uses (`attune.media.encode.codec_args`); the floor for MP3 alone is a bare LAME
encode of the same PCM. Interleaved runs, medians and spread; wall and CPU (user+sys of the
process and its children). Targets: three formats <= 1.25x, MP3 alone <= 1.10x. Then (without
--quick) where a render's time goes, stage by stage (`bench/formats_breakdown.py`).
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from common import ATTUNE, ffmpeg, long_script, run, timed

FORMATS = ("mp3", "m4a", "opus")


def _floor_argv(wav: Path, out: Path, formats: tuple[str, ...]) -> list[str]:
    from attune.formats import FORMATS as TABLE
    from attune.media.encode import codec_args

    argv = [ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(wav)]
    for name in formats:
        fmt = TABLE[name]
        argv += ["-map", "0:a", *codec_args(fmt, fmt.bitrate(None)), str(out / f"floor{fmt.suffix}")]
    return argv


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    script = long_script(work / "formats.yaml")
    base = [*ATTUNE, "render", str(script), "--length", "23m", "--background", "drone"]
    run([*base, "-o", str(work / "warm.mp3")], env)  # speech cached
    wav = work / "own.wav"
    run([*base, "-o", str(wav)], env)  # the track's own PCM, exactly what Attune's encoders are fed
    commands = {
        "floor mp3 (one LAME encode)": _floor_argv(wav, work, ("mp3",)),
        "attune --format mp3": [*base, "--format", "mp3", "-o", str(work / "one.mp3")],
        "floor mp3,m4a,opus (one ffmpeg)": _floor_argv(wav, work, FORMATS),
        "attune --format mp3,m4a,opus": [*base, "--format", ",".join(FORMATS), "-o", str(work / "three.mp3")],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            wall, cpu = timed(argv, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    med = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    names = list(commands)
    print(f"23-minute track, drone bed: Attune against one ffmpeg on its own PCM ({runs} interleaved runs; load {load:.1f} at the end)")
    print(f"  {'':<34}{'wall median':>12}{'spread':>14}{'CPU median':>12}{'ratio':>8}")
    for floor, ours, target in ((names[0], names[1], 1.10), (names[2], names[3], 1.25)):
        for name in (floor, ours):
            ratio = med[name] / med[floor]
            note = f"   (target <= {target:.2f}x; CPU {cpu[ours] / cpu[floor]:.2f}x)" if name == ours else ""
            print(f"  {name:<34}{med[name]:10.2f} s{_spread(walls[name]):>14}{cpu[name]:10.2f} s{ratio:7.2f}x{note}")
    if not quick:  # where the time goes, stage by stage (one more render of each, in this process)
        from formats_breakdown import breakdown

        for formats in ("mp3", ",".join(FORMATS)):
            results[f"formats_breakdown_{formats}"] = breakdown(script, "23m", formats, "drone", Path(env["ATTUNE_CACHE_DIR"]))
    results.update(
        formats_floor_mp3_s=med[names[0]],
        formats_mp3_s=med[names[1]],
        formats_mp3_ratio=med[names[1]] / med[names[0]],
        formats_floor_three_s=med[names[2]],
        formats_three_s=med[names[3]],
        formats_three_ratio=med[names[3]] / med[names[2]],
        formats_three_cpu_ratio=cpu[names[3]] / cpu[names[2]],
        formats_load=load,
    )
