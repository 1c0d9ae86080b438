"""Peak memory of a 20-minute sound-file bed: the whole file plays (and loops), memory stays flat.

Two child processes side by side, each measured by its own peak RSS (ru_maxrss): the floor imports the
renderer and mixes 25 minutes of a drone bed; the other mixes 25 minutes over a 20-minute OGG file bed
(past its loop point). The difference is what the file bed costs in memory.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD = r"""
import resource, sys
from pathlib import Path
from attune.audio.background import parse_background
from attune.audio.beds import make_bed
from attune.audio.bed_track import BedRun, BedTrack
from attune.timebase import SAMPLE_RATE
kind, path = sys.argv[1], sys.argv[2]
n = 25 * 60 * SAMPLE_RATE
spec = parse_background(path if kind == "file" else "drone", base_dir=Path("."))
bed = make_bed(spec, SAMPLE_RATE)
track = BedTrack([BedRun(0, n, bed, 0.5)], SAMPLE_RATE)
for start in range(0, n, 65536):
    track.render(start, min(65536, n - start))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    from attune.system.ffmpeg import ffmpeg_exe

    sound = work / "twenty-minutes.ogg"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.2:duration=1200:sample_rate=44100",
         "-ac", "2", "-c:a", "libvorbis", "-q:a", "3", str(sound)],
        check=True,
    )  # fmt: skip
    peaks: dict[str, list[float]] = {"drone": [], "file": []}
    for _ in range(max(1, runs)):
        for kind in ("drone", "file"):
            out = subprocess.run([sys.executable, "-c", CHILD, kind, str(sound)], capture_output=True, text=True, env=env, check=True)
            peaks[kind].append(float(out.stdout.strip()))
    drone, file = min(peaks["drone"]), min(peaks["file"])
    print(f"file bed: peak RSS {file:.0f} MB mixing 25 min over a 20-minute OGG bed, past its loop point (a drone bed, side by side: {drone:.0f} MB)")
    results["file_bed"] = {"peak_rss_mb": file, "floor_rss_mb": drone, "added_mb": file - drone}
