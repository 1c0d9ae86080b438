"""attune.script.model: the dataclasses validate at construction."""

from __future__ import annotations

import pytest

from attune.errors import ScriptError
from attune.script import (
    Bell,
    Pause,
    Script,
    Section,
    Speech,
)


def test_elastic_property():
    assert not Pause(5, 5, 1).elastic
    assert Pause(5, 6, 1).elastic
    assert Pause(5, None, 1).elastic


def test_dataclass_validation():
    with pytest.raises(ScriptError, match="runs backwards"):
        Pause(30, 10, 1)
    with pytest.raises(ScriptError, match="is not 0 to 12h"):
        Pause(-1, None, 1)
    with pytest.raises(ScriptError, match="is not 0 to 12h"):
        Pause(float("nan"), None, 1)
    with pytest.raises(ScriptError, match="kind 'nap' is unknown"):
        Pause(1, 1, 1, "nap")
    with pytest.raises(ScriptError, match="empty speech"):
        Speech("  ", 1)
    with pytest.raises(ScriptError, match="repeat must be a whole number from 1 to 100, not 0"):
        Section("A", (), 1, repeat=0)
    with pytest.raises(ScriptError, match="title '' is empty"):
        Script("p", "", ())
    section = Section("A", [Bell(1)], 1)
    assert section.items == (Bell(1),)
    assert Script("p", "T", [section]).sections == (section,)
