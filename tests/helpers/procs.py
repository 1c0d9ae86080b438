"""Child processes as Linux shows them in /proc: a run's descendants, and which of them still run."""

from __future__ import annotations

import os
from pathlib import Path


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def descendants(root: int) -> dict[int, str]:
    """Every live (non-zombie) descendant of `root`: pid → command line."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None and stat[0] != "Z":
                parents.setdefault(stat[1], []).append(int(entry))
    found, todo = {}, [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found[child] = _cmdline(child)
            todo.append(child)
    return found


def still_running(processes: dict[int, str]) -> dict[int, str]:
    """Those of `processes` that are alive now (same pid and same command line, not a zombie)."""
    alive = {}
    for pid, cmd in processes.items():
        stat = _proc_stat(pid)
        if stat is not None and stat[0] != "Z" and _cmdline(pid) == cmd:
            alive[pid] = cmd
    return alive
