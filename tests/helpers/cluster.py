"""Stand-ins for the cluster tests: a renderer that kills its own Dask worker, and an S3 server.

The fake renders run inside worker processes, which import this module by name (the tests put the
tests folder on PYTHONPATH before the cluster starts).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.batch import fake_render


def killing_render(request, *, cache_dir=None, progress=None):
    """`fake_render`, except that a script with `KILL-ONCE <flag file>` SIGKILLs its worker the first
    time (when the flag file does not exist yet), and one with `KILL-ALWAYS` every time."""
    text = Path(request.script_path).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("KILL-ONCE "):
            flag = Path(line.removeprefix("KILL-ONCE ").strip())
            if not flag.exists():
                flag.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        if line.startswith("KILL-ALWAYS"):
            os.kill(os.getpid(), signal.SIGKILL)
    return fake_render(request, cache_dir=cache_dir, progress=progress)


@contextmanager
def moto_s3(monkeypatch) -> Iterator[str]:
    """A real S3 API (moto's server) on 127.0.0.1 at a free port; the AWS variables point at it
    (worker processes started afterwards inherit them). Yields the endpoint URL."""
    import pytest

    ThreadedMotoServer = pytest.importorskip("moto.server", reason="moto[server] (a test dependency) is not installed").ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    try:
        yield endpoint
    finally:
        server.stop()
