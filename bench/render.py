"""The render against the encoder it feeds, and memory.

1. A 23-minute script of 56 speech passages with fixed pauses, rendered to MP3 with a drone bed
   (speech cached, as on any re-render), against a bare ffmpeg MP3 encode of the same track's own
   PCM (Attune's `--format wav` of the same render, so the floor encodes exactly what Attune's
   encoder is fed). Interleaved runs, medians compared. Target: <= 1.25x.
2. Cold render: the same with an empty speech cache (reported, no target).
3. Peak RSS of the 23-minute render and of a 3-hour sleep track (open-ended pause, brown noise).
   Target: <= 400 MiB each, and flat in track length.
4. Warm re-render with another length and background: sentences synthesised (target: 0).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import ATTUNE, ffmpeg, interleaved, long_script, row, run


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    script = long_script(work / "long.yaml")
    track = work / "long.mp3"
    render_argv = [*ATTUNE, "render", str(script), "--length", "23m", "--background", "drone", "-o", str(track)]
    cold, cold_rss = run(render_argv, env)
    wav = work / "long.wav"
    run([*ATTUNE, "render", str(script), "--length", "23m", "--background", "drone", "-o", str(wav)], env)
    bare_argv = [ffmpeg(), "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "128k", str(work / "bare.mp3")]
    medians = interleaved({"bare": bare_argv, "render": render_argv}, runs, env)
    warm_rss = run(render_argv, env)[1]
    bare, warm = medians["bare"], medians["render"]
    results.update(
        bare_encode_s=bare, render_s=warm, render_ratio=warm / bare, cold_render_s=cold, cold_ratio=cold / bare, render_peak_rss_mib=max(warm_rss, cold_rss)
    )
    print(f"23-minute track, drone bed, voice-anchored loudness, measured after encoding ({runs} interleaved runs, medians)")
    print(row("bare ffmpeg MP3 encode of its PCM", bare, 1.0))
    print(row("attune render (speech cached)", warm, warm / bare, "(target <= 1.25x)"))
    print(row("attune render (empty cache)", cold, cold / bare))
    print(f"  {'peak RSS of attune render':<34}{max(warm_rss, cold_rss):8.0f} MiB   (target <= 400 MiB)")
    out = subprocess.run(
        [*ATTUNE, "render", str(script), "--length", "25m", "--background", "pink-noise", "-o", str(work / "re.mp3")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    results["rerender_output"] = out
    print(f"  re-render, 25m with pink noise:   {out.splitlines()[0].split('(')[-1].rstrip(')')}")
    if quick:
        return
    sleep = work / "sleep.yaml"
    sleep.write_text("title: Sleep\nsections:\n  - name: Sleep\n    text: |\n      Let the day go. [pause 5s] Rest now, and sleep well. [pause 10s..]\n")
    wall, peak = run([*ATTUNE, "render", str(sleep), "--length", "3h", "--background", "brown-noise", "-o", str(work / "sleep.mp3")], env)
    results.update(sleep_3h_s=wall, sleep_3h_peak_rss_mib=peak)
    print("3-hour sleep track, brown-noise bed")
    print(row("attune render", wall))
    print(f"  {'peak RSS':<34}{peak:8.0f} MiB   (target <= 400 MiB)")
