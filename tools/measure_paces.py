"""Measure the pace of every voice that comes inside a pip package, and ship it (`paces.json`).

    python tools/measure_paces.py            # measure, and rewrite src/attune/speech/engines/paces.json
    python tools/measure_paces.py --check    # measure, and compare with the shipped table (no writing)

Each installed engine (piper, hibari, pico) measures each of its packaged voices exactly as a first
render does (`PiperSynthesizer.pace` / `PackagedSynthesizer.pace`, into an empty cache, with the
table ignored), and the curves are kept under the engine's description (its libraries' versions):
a render with other versions measures on first use. Run it after changing a pace measurement, the
pace texts or scales, or the pinned engine versions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ["ATTUNE_MEASURE_PACE"] = "1"  # before attune reads the table

from attune.errors import SettingsError
from attune.speech.engines import create_synthesizer
from attune.speech.engines.pace_table import TABLE_PATH

#: How far a fresh measurement may differ from the shipped one (Piper's durations are sampled, so
#: two measurements of one voice differ by up to about 2%).
CHECK_TOLERANCE = 0.03


def dumps(table: dict) -> str:
    """The table as JSON, one voice's curve a line."""
    engines = []
    for engine_id in sorted(table):
        voices = [f"  {json.dumps(key)}: {json.dumps(table[engine_id][key])}" for key in sorted(table[engine_id])]
        engines.append(f" {json.dumps(engine_id)}: {{\n" + ",\n".join(voices) + "\n }")
    return "{\n" + ",\n".join(engines) + "\n}\n"


def packaged_voices(engine: str) -> list[str]:
    """The voices of `engine` that a pip package carries (not the user's own downloads)."""
    if engine == "piper":
        from attune.speech.engines.piper_voices import installed_voices

        return [v.name for v in installed_voices() if v.source.startswith("package")]
    from attune.speech.engines import _packaged

    return [v.name for v in _packaged(engine).table() if v.ready and v.source.startswith("package")]


def measure(engine: str) -> tuple[str, dict] | None:
    """(engine description, {voice key: curve}) of every packaged voice of `engine`; None if not installed."""
    with tempfile.TemporaryDirectory(prefix="attune-paces-") as cache:
        try:
            synth = create_synthesizer(engine, cache_dir=Path(cache))
        except SettingsError:
            return None
        try:
            for name in packaged_voices(engine):
                synth.pace(synth.voice_settings(name, 140.0, None, None, None))  # type: ignore[attr-defined]
                print(f"  {engine} {name}: measured", file=sys.stderr)
        finally:
            synth.close()
        stored = Path(cache) / "speech" / f"{engine}-pace.json"
        return synth.engine_id, json.loads(stored.read_text("utf-8")) if stored.exists() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped table instead of writing it")
    parser.add_argument("--engine", action="append", choices=["piper", "hibari", "pico"], help="only this engine (repeatable)")
    args = parser.parse_args()
    shipped = json.loads(TABLE_PATH.read_text("utf-8")) if TABLE_PATH.exists() else {}
    table = dict(shipped)
    worst = 0.0
    for engine in args.engine or ["piper", "hibari", "pico"]:
        measured = measure(engine)
        if measured is None:
            print(f"{engine}: not installed, skipped", file=sys.stderr)
            continue
        engine_id, curves = measured
        for key, curve in curves.items():
            old = shipped.get(engine_id, {}).get(key)
            if old is None:
                print(f"{engine_id} {key}: not shipped", file=sys.stderr)
                worst = float("inf")
                continue
            diff = max(abs(a[1] - b[1]) / b[1] for a, b in zip(curve, old, strict=True))
            worst = max(worst, diff)
            print(f"{engine_id} {key}: {' '.join(f'{b:.1f}' for _, b in curve)} wpm, shipped differs by {100 * diff:.2f}%")
        stale = sorted(set(table.get(engine_id, {})) - set(curves))
        if stale:  # an older pace version or a voice no longer packaged: nothing looks it up
            print(f"{engine_id}: dropped {len(stale)} stale curve(s): {', '.join(k.rsplit(':', 1)[-1] for k in stale)}", file=sys.stderr)
        table[engine_id] = curves
    if args.check:
        return 0 if worst <= CHECK_TOLERANCE else 1
    TABLE_PATH.write_text(dumps(table), encoding="utf-8")
    print(f"wrote {TABLE_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
