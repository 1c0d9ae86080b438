"""The engine workers' side of the line protocol (the parent's side is `attune.speech.worker`): one
JSON request per line on stdin, one JSON reply per line on stdout. Standard library only: a worker
imports it before its engine."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO


class Stop(Exception):
    """Raised by a handler to send `payload` and end the worker with exit code `code`."""

    def __init__(self, payload: dict[str, Any], code: int = 1):
        super().__init__(payload.get("error", ""))
        self.payload, self.code = payload, code


def open_protocol() -> TextIO:
    """The protocol channel, a copy of stdout; stdout itself then goes to stderr, so that anything a
    library prints ("Audio saved to …") stays off the protocol."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return protocol


def reply(stream: TextIO, payload: dict[str, Any]) -> None:
    stream.write(json.dumps(payload) + "\n")
    stream.flush()


def serve(protocol: TextIO, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Answer every request on stdin with `handle(request)`; an exception in it is the reply's error.
    Returns the exit code: 0 at the end of stdin, or a `Stop`'s."""
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            reply(protocol, {"ok": False, "error": "bad request"})
            continue
        try:
            answer = handle(request)
        except Stop as stop:
            reply(protocol, stop.payload)
            return stop.code
        except Exception as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply(protocol, answer)
    return 0
