"""Open every client's listening page from disk in headless Chromium and check each <audio> loads.

Chromium is driven over the DevTools protocol (a minimal WebSocket client, standard library only).
Every wait is bounded; the whole test takes a few seconds and gives up after 30 s.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from attune.delivery.batch import BatchOptions, run_batch
from helpers.batch import access_of, fake_fingerprint, fake_render, make_project

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
DEADLINE_S = 30.0


class DevTools:
    """Just enough of a WebSocket client (RFC 6455, text frames) to send CDP commands to one page."""

    def __init__(self, ws_url: str, timeout_s: float):
        parts = urlsplit(ws_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout_s)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            reply += chunk
        head, self.buffer = reply.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"DevTools refused the WebSocket: {head[:200]!r}")
        self.next_id = 0

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _receive_message(self) -> str:
        parts = []
        while True:
            first, second = self._read(2)
            opcode, n = first & 0x0F, second & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if first & 0x80:
                    return b"".join(parts).decode("utf-8")

    def call(self, method: str, **params):
        self.next_id += 1
        wanted = self.next_id
        self._send_frame(0x1, json.dumps({"id": wanted, "method": method, "params": params}).encode())
        while True:
            message = json.loads(self._receive_message())
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        self.sock.close()


# Waits (bounded) for every <audio> on the page to load its metadata or fail, then reports each one.
AUDIO_REPORT = """
(async () => {
  const audios = Array.from(document.querySelectorAll('audio'));
  const report = a => ({src: a.getAttribute('src'), readyState: a.readyState,
                        duration: Number.isFinite(a.duration) ? a.duration : null,
                        error: a.error ? `${a.error.code} ${a.error.message}` : null});
  const settle = a => new Promise(resolve => {
    if (a.error || a.readyState >= 1) return resolve(report(a));
    const done = () => resolve(report(a));
    a.addEventListener('loadedmetadata', done, {once: true});
    a.addEventListener('error', done, {once: true});
    setTimeout(done, %d);
  });
  return Promise.all(audios.map(settle));
})()
"""


# Waits (bounded) for every <track> to load (readyState 2) or fail (3); reports its cue count.
TRACK_REPORT = """
(async () => {
  const tracks = Array.from(document.querySelectorAll('track'));
  const deadline = Date.now() + %d;
  while (tracks.some(t => t.readyState < 2) && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
  return tracks.map(t => ({src: t.getAttribute('src'), readyState: t.readyState, cues: t.track.cues ? t.track.cues.length : null}));
})()
"""


@pytest.fixture
def chromium(tmp_path):
    """A headless Chromium with remote debugging; yields a DevTools connection to its page."""
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    profile = tmp_path / "profile"
    profile.mkdir()
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--mute-audio",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        start = time.monotonic()
        port_file = profile / "DevToolsActivePort"
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if proc.poll() is not None or time.monotonic() - start > 45:  # a hang guard: a loaded machine can take 15 s
                pytest.fail(f"chromium did not open its DevTools port (exit code {proc.poll()})")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as reply:
            pages = [t for t in json.load(reply) if t.get("type") == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"], timeout_s=DEADLINE_S)
        try:
            yield tools
        finally:
            tools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # helper processes of this browser (its own session)


def open_page(tools: DevTools, url: str, timeout_s: float) -> None:
    """Navigate and wait (bounded) until the new document has finished loading."""
    tools.call("Page.navigate", url=url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = tools.evaluate("[location.href, document.readyState]")
        if state == [url, "complete"]:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not finish loading in {timeout_s:g}s")


def make_batch(tmp_path: Path) -> Path:
    """Two clients (one with a hostile name) and tracks of different lengths, via the fake renderer."""
    roster = make_project(
        tmp_path,
        """\
practitioner: Dr. Rivera
title: Weekly practice
cover: cover.png
clients:
  - name: Ana
    tracks:
      - {script: scripts/loving-kindness.txt, length: 1s}
      - {script: scripts/scan.txt, length: 2.5s, title: Body <scan> & rest}
  - name: <script>alert(1)</script>
    tracks:
      - {script: scripts/scan.txt, length: 4s}
""",
    )
    out = tmp_path / "out"
    report = run_batch(roster, out, BatchOptions(jobs=1, base_url=BASE), render_fn=fake_render, fingerprint_fn=fake_fingerprint)
    assert not report.failures, report.failures
    return out


BASE = "https://example.org/p/"
HOSTILE = "<script>alert(1)</script>"


def test_every_audio_element_loads_with_the_right_duration(tmp_path, chromium):
    deadline = time.monotonic() + DEADLINE_S

    def budget_s(cap_s: float = 10.0) -> float:
        """Seconds the next wait may take: at most `cap_s`, and never past the test's deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"the browser checks took longer than {DEADLINE_S:g}s")
        chromium.sock.settimeout(left)
        return min(cap_s, left)

    out = make_batch(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    durations = {Path(t["files"]["mp3"]["path"]).name: t["files"]["mp3"]["duration_s"] for t in manifest["tracks"]}
    assert sorted(durations.values()) == [1.0, 2.5, 4.0]
    clients = {name: entry["token"] for name, entry in access_of(out).items()}
    pages = {name: out / "public" / token / "index.html" for name, token in clients.items()}
    assert all(page.is_file() for page in pages.values())
    checked = 0
    for name, page in pages.items():
        open_page(chromium, page.resolve().as_uri(), timeout_s=budget_s())
        assert chromium.evaluate("document.title") == "Weekly practice · " + name
        assert chromium.evaluate("document.querySelector('h1').textContent") == name  # a hostile name stays text
        assert chromium.evaluate("Array.from(document.scripts).map(s => s.textContent.includes('alert(1)'))") == [False]
        # The subscribe buttons and the copy-link carry the client's feed URL.
        feed = f"{BASE}{clients[name]}/feed.xml"
        links = chromium.evaluate("Array.from(document.querySelectorAll('.apps a')).map(a => [a.textContent, a.getAttribute('href')])")
        assert links == [["Apple Podcasts", "podcast://" + feed.split("://")[1]],
                         ["Overcast", "overcast://x-callback-url/add?url=" + urllib.parse.quote(feed, safe="")],
                         ["Pocket Casts", "pktc://subscribe/" + feed.split("://")[1]]]  # fmt: skip
        assert chromium.evaluate("document.getElementById('copy-feed').dataset.url") == feed
        assert chromium.evaluate("document.getElementById('feed-url').value") == feed
        # The cover (the roster's, fitted to a square) shows, and each file's measured figures are listed.
        cover = chromium.evaluate(COVER_REPORT % int(budget_s(5.0) * 1000))
        assert cover["complete"] and cover["width"] == cover["height"] >= 1400, cover
        rows = chromium.evaluate("Array.from(document.querySelectorAll('table.files tbody tr')).map(r => r.innerText.split('\\t'))")
        assert len(rows) == len(list(page.parent.glob("*.mp3"))) and all(row[0] == "MP3" and len(row) == 6 and row[1].endswith("KB") for row in rows), rows
        audios = chromium.evaluate(AUDIO_REPORT % int(budget_s(8.0) * 1000))
        assert sorted(a["src"] for a in audios) == sorted(p.name for p in page.parent.glob("*.mp3"))
        for audio in audios:
            assert audio["error"] is None, audio
            assert audio["readyState"] >= 1, audio
            assert audio["duration"] == pytest.approx(durations[audio["src"]], abs=0.1), audio
            checked += 1
    assert checked == 3

    # Chromium will not load <track> captions into a file:// page (each file is its own origin), so
    # the captions are checked with the same pages served over HTTP from localhost; there the
    # copy-link button is clicked, and the clipboard read back.
    handler = functools.partial(QuietHandler, directory=str(out / "public"))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            origin = f"http://127.0.0.1:{server.server_address[1]}"
            chromium.call("Browser.grantPermissions", origin=origin, permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
            chromium.call("Emulation.setFocusEmulationEnabled", enabled=True)  # a headless page has no focus of its own
            for name, page in pages.items():
                open_page(chromium, f"{origin}/{clients[name]}/index.html", timeout_s=budget_s())
                tracks = chromium.evaluate(TRACK_REPORT % int(budget_s(8.0) * 1000))
                expected = {vtt.name: vtt.read_text(encoding="utf-8").count(" --> ") for vtt in page.parent.glob("*.vtt")}
                assert {t["src"]: t["cues"] for t in tracks} == expected
                assert all(t["readyState"] == 2 for t in tracks), tracks
                copied = chromium.evaluate(COPY_REPORT % int(budget_s(5.0) * 1000))
                assert copied == {"label": "Copied", "clipboard": f"{BASE}{clients[name]}/feed.xml"}
            assert urllib.request.urlopen(f"{origin}/robots.txt", timeout=5).read() == b"User-agent: *\nDisallow: /\n"
            # The server lists folders, but public/ answers with its empty page, not the tokens.
            root_page = urllib.request.urlopen(f"{origin}/", timeout=5).read().decode()
            assert "Nothing here" in root_page and not any(token in root_page for token in clients.values())
        finally:
            server.shutdown()
            thread.join(timeout=5)


COVER_REPORT = """
new Promise(resolve => {
  const img = document.querySelector('header img');
  const started = Date.now();
  (function wait() {
    if (!img || img.complete || Date.now() - started > %d) {
      resolve(img ? {complete: img.complete && img.naturalWidth > 0, width: img.naturalWidth, height: img.naturalHeight} : {complete: false});
    } else { setTimeout(wait, 20); }
  })();
})
"""

COPY_REPORT = """
new Promise(resolve => {
  const button = document.getElementById('copy-feed');
  button.click();
  const started = Date.now();
  (function wait() {
    if (button.textContent === 'Copied' || Date.now() - started > %d) {
      navigator.clipboard.readText().then(text => resolve({label: button.textContent, clipboard: text}),
                                          error => resolve({label: button.textContent, clipboard: String(error)}));
    } else { setTimeout(wait, 20); }
  })();
})
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass
