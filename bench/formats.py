"""Several formats from one render: `--format mp3,m4a` against `--format mp3`, the same 23-minute
track (speech cached), interleaved runs, medians. One mixing pass feeds both encoders, which run
beside each other; the second format costs its encoder and its measurement, not a second mix."""

from __future__ import annotations

from pathlib import Path

from common import ATTUNE, interleaved, long_script, row, run


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    script = long_script(work / "formats.yaml")
    base = [*ATTUNE, "render", str(script), "--length", "23m", "--background", "drone"]
    run([*base, "-o", str(work / "warm.mp3")], env)  # speech cached
    commands = {
        "mp3": [*base, "--format", "mp3", "-o", str(work / "one.mp3")],
        "mp3,m4a": [*base, "--format", "mp3,m4a", "-o", str(work / "two.mp3")],
    }
    medians = interleaved(commands, runs, env)
    one, two = medians["mp3"], medians["mp3,m4a"]
    results.update(format_mp3_s=one, format_mp3_m4a_s=two, format_two_ratio=two / one)
    print(f"23-minute track in one format and in two ({runs} interleaved runs, medians)")
    print(row("--format mp3", one, 1.0))
    print(row("--format mp3,m4a", two, two / one, "(one mixing pass; AAC is slower than LAME)"))
