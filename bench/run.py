"""Attune's benchmarks: `make bench`. Each builds its own inputs, runs its comparison side by side
(interleaved runs, medians) and prints the ratio against its floor.

    render   the render against a bare ffmpeg encode of its own PCM; memory; warm re-render
    formats  --format mp3,m4a,opus against one ffmpeg encoding its PCM to the three; --format mp3 against one LAME encode
    batch    --jobs 2 against --jobs 1
    cluster  --cluster local:2 against --jobs 2; the cost of a worker loss; the scheduler's overhead per task
    file_bed peak RSS of a 20-minute sound-file bed against a drone
    piper    cold neural synthesis and a whole cold render (Piper, hibari, Pico) against the engine's CLI or library call
    interrupt Ctrl-C on a first neural render (empty cache): seconds to exit, against 2 s and Piper's CLI
    voices   cold synthesis of the same 40 sentences by every installed engine (pyttsx3, piper, hibari, pico), DNSMOS
    align    `attune align` of a 20-minute take against faster-whisper alone on it (CPU seconds)
    clean    the take clean-up: DeepFilterNet3, RNNoise and noisereduce against the raw take (DNSMOS, SI-SDR, WER, RTF)

`python bench/run.py --only formats --runs 5` runs one of them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT

BENCHES = ["render", "formats", "batch", "file_bed", "cluster", "piper", "interrupt", "voices", "clean", "align"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each side (medians compared)")
    parser.add_argument("--quick", action="store_true", help="skip the long cases (the 3-hour track, the batch)")
    parser.add_argument("--only", help=f"comma-separated: {', '.join(BENCHES)}")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else BENCHES
    work = Path(tempfile.mkdtemp(prefix="attune-bench-"))
    env = dict(os.environ, ATTUNE_CACHE_DIR=str(work / "cache"))
    results: dict[str, object] = {}
    try:
        for name in chosen:
            importlib.import_module(name).bench(work, env, args.runs, args.quick, results)
        (ROOT / "bench" / "out").mkdir(exist_ok=True)
        (ROOT / "bench" / "out" / "results.json").write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
