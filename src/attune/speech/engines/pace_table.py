"""The pace curves of the voices that come inside pip packages, measured before shipping.

A first render with a voice measures its pace (`attune.speech.engines.pace`: 18 syntheses of the
pace texts, longer than many a practice's own speech). For the voices a pip package carries (Piper's
joe, hibari's heart, SVOX Pico's six), the same measurement was made by `tools/measure_paces.py`
and shipped in `paces.json`, by engine description (the exact library versions) and the same voice
key the speech cache uses (a hash of the voice's files, the speaker or pitch, the pace version).
Any other voice, version or pace version is measured on first use, as before; so is every voice
when `$ATTUNE_MEASURE_PACE` is set (benchmarks and `tools/measure_paces.py` measure afresh).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The shipped table: {engine description: {voice key: [[scale, wpm], ...]}}.
TABLE_PATH = Path(__file__).with_name("paces.json")
#: Set (to anything) to measure every voice's pace, ignoring the table.
MEASURE_ENV = "ATTUNE_MEASURE_PACE"


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    try:
        table = json.loads(TABLE_PATH.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def known_curves(engine_id: str) -> Mapping[str, Sequence[Sequence[float]]]:
    """The shipped curves measured with exactly this engine (`engine_id`: its libraries' versions)."""
    if os.environ.get(MEASURE_ENV):
        return {}
    curves = _table().get(engine_id)
    return curves if isinstance(curves, dict) else {}
