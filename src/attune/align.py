"""`attune align`: where each sentence of a script is in a practitioner's take, before anything is rendered.

The same alignment a render with `--recording TAKE` uses (`attune.speech.recording.align`), with the
same errors, and cached the same way: a render after `align` does not recognise the take again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .library import resolve_script
from .script import load_script
from .speech.recording.align import Alignment, align_take, script_sentences


def align_script(
    script_path: Path, take: Path, *, vars: Mapping[str, str] | None = None, asr_model: str | None = None, cache_dir: Path | None = None
) -> Alignment:
    """Align every sentence of the script at `script_path` (placeholders filled from `vars`) with `take`."""
    script = load_script(resolve_script(script_path), dict(vars or {}))
    return align_take(script_sentences(script), Path(take), script_path=script.path, take_label=str(take), asr_model=asr_model, cache_dir=cache_dir)


def alignment_json(alignment: Alignment) -> list[dict]:
    """`[{"line", "text", "start_s", "end_s", "score"}]`, seconds to 2 decimals, in script order."""
    return [{"line": s.line, "text": s.text, "start_s": round(s.start_s, 2), "end_s": round(s.end_s, 2), "score": s.score} for s in alignment.sentences]
