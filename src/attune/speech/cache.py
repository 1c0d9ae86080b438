"""The speech cache: every sentence synthesised once per engine, voice, rate and pitch, kept on disk.

Clips are stored as trimmed, edge-faded float32 at the track's rate (`attune.speech.clips`), so a
re-render with another length or background does no synthesis at all. Temporary names are unique
across processes and machines (`mkstemp`), so several workers, or machines, may share a cache.

Every clip file is a `.npy` followed by a checksum (`CHECKSUM_TAG` and the SHA-256 of the bytes
before it). A clip that is truncated or damaged (a full disk, a crash, a bad sector, a hand edit)
fails it: `ensure` removes it and synthesises the sentence again, and `load` never returns it.

A batch on a cluster may add a shared store (`--cache-url s3://bucket/speech`, any fsspec URL),
registered for a cache folder with `use_shared_store`: content-addressed as
`<engine>/<key[:2]>/<key>.npy`, read through (a clip missing here is fetched before it is
synthesised) and written once (a clip synthesised here is uploaded under a temporary name unique
across machines, then moved to its key, unless the key is there already). Keys are content hashes,
so two workers writing the same clip write the same bytes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import io
import json
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, SpeechError, VoiceError
from ..system.atomic import atomic_path, write_text
from ..system.paths import default_cache_dir
from .clips import excerpt, process_clip, read_wav_mono
from .engines.base import Synthesizer, VoiceSettings
from .keys import CLIP_FORMAT_VERSION, VOICES_FILE, clip_key, clip_path, engine_root
from .voices import VoiceInfo, resolve_voice
from .worker import EngineStopped

__all__ = ["CLIP_FORMAT_VERSION", "SpeechCache"]

#: What ends every clip file, before the SHA-256 (32 bytes) of everything ahead of it.
CHECKSUM_TAG = b"attune-sha256:"
_TRAILER_BYTES = len(CHECKSUM_TAG) + 32


def clip_file_bytes(clip: np.ndarray) -> bytes:
    """A clip as stored: the `.npy` of its samples, then its checksum."""
    buffer = io.BytesIO()
    np.save(buffer, clip)
    data = buffer.getvalue()
    return data + CHECKSUM_TAG + hashlib.sha256(data).digest()


def read_clip_file(path: Path) -> np.ndarray | None:
    """The clip stored at `path`, or None when it is missing, truncated or damaged (its checksum
    fails, or what it holds is not a clip)."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    data, tag, digest = raw[:-_TRAILER_BYTES], raw[-_TRAILER_BYTES:-32], raw[-32:]
    if len(raw) <= _TRAILER_BYTES or tag != CHECKSUM_TAG or hashlib.sha256(data).digest() != digest:
        return None
    try:
        clip = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    return clip if clip.ndim == 1 and clip.dtype == np.float32 else None


@dataclass(frozen=True)
class SharedStore:
    """A shared, content-addressed clip store at an fsspec URL (s3://bucket/speech, memory://…)."""

    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def filesystem(self) -> tuple[Any, str]:
        try:
            import fsspec
        except ImportError:
            raise OutputError(f"the speech store {self.url} needs fsspec", "pip install 'attune[s3]'") from None
        fs, root = fsspec.core.url_to_fs(self.url, **self.storage_options)
        return fs, root.rstrip("/")


_shared: dict[str, SharedStore] = {}
_shared_lock = threading.Lock()


def use_shared_store(cache_dir: Path | None, store: SharedStore | None) -> None:
    """Caches over `cache_dir` (None: the default folder) read through, and write once to, `store`
    (None: no shared store). Called by a batch's worker before it renders."""
    folder = str(Path(cache_dir if cache_dir is not None else default_cache_dir()).resolve())
    with _shared_lock:
        if store is None:
            _shared.pop(folder, None)
        else:
            _shared[folder] = store


def stop_engine(synthesizer: Synthesizer) -> None:
    """Stop what `synthesizer` is doing now, not when its sentence ends: its `cancel()` where it has
    one (every call in flight fails at once, until its `close()`)."""
    cancel = getattr(synthesizer, "cancel", None)
    if cancel is not None:
        cancel()


class SpeechCache:
    """Clips on disk under `cache_dir/speech/<engine>/`, keyed by engine (and its versions), voice (and,
    for a model-file voice, a hash of its files), speaker, rate, pitch and text.

    A cold `ensure` synthesises distinct sentences at once, as many as the engine's `parallelism`."""

    def __init__(self, synthesizer: Synthesizer, cache_dir: Path | None = None):
        self.synthesizer = synthesizer
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.root = engine_root(self.cache_dir, synthesizer.engine_id)
        #: The engine's folder name, also its folder in a shared store.
        self.engine_key = self.root.name
        #: How many clips this cache had to synthesise (0 on a warm re-render).
        self.synthesized = 0
        self._count_lock = threading.Lock()
        #: How many clips came from the shared store, and how many this cache added to it.
        self.fetched = 0
        self.shared_written = 0
        with _shared_lock:
            self.shared = _shared.get(str(self.cache_dir.resolve()))
        self._shared_fs: tuple[Any, str] | None = None
        #: How many damaged or truncated clips this cache found (removed, and synthesised again).
        self.damaged = 0
        #: Clips whose checksum held, by key: the file's (size, mtime) then. `load` checks again if it changed.
        self._checked: dict[str, tuple[int, int]] = {}

    def key(self, text: str, voice: VoiceSettings) -> str:
        voice_key = getattr(self.synthesizer, "voice_key", None)
        return clip_key(self.synthesizer.engine_id, voice, text, voice_key(voice) if voice_key is not None else None)

    def path(self, key: str) -> Path:
        return clip_path(self.root, key)

    def voices(self) -> list[VoiceInfo]:
        """The engine's voices, remembered in the cache so a warm render never starts the engine."""
        listing = self.root / VOICES_FILE
        with contextlib.suppress(OSError, ValueError, KeyError):
            return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in json.loads(listing.read_text("utf-8"))]
        voices = self.synthesizer.voices()
        with contextlib.suppress(OSError, OutputError):  # a read-only cache still renders
            listing.parent.mkdir(parents=True, exist_ok=True)
            write_text(listing, json.dumps([{"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender} for v in voices]))
        return voices

    def voice_settings(
        self, spec: str | None, rate_wpm: float, pitch: int | None = None, speaker: str | None = None, language: str | None = None, options: dict | None = None
    ) -> VoiceSettings:
        """How to speak: `--voice` (or, with none, the script's `language`), rate, pitch and speaker,
        resolved the engine's way (Piper: its model files; a take: `options` are its clean-up and
        recogniser) or by `resolve_voice` over the cached listing."""
        resolve = getattr(self.synthesizer, "voice_settings", None)
        if resolve is not None:
            return resolve(spec, rate_wpm, pitch, speaker, language, options=options) if options is not None else resolve(spec, rate_wpm, pitch, speaker, language)
        if speaker is not None:
            raise VoiceError(f"speaker {speaker!r} needs a multi-speaker voice of the piper engine", "drop --speaker, or use --engine piper")
        voice_id = resolve_voice(spec, self.voices(), variants=self.synthesizer.variants(), language=language)
        return VoiceSettings(voice_id, rate_wpm, pitch)

    def frames(self, key: str) -> int:
        return int(np.load(self.path(key), mmap_mode="r").shape[0])

    def load(self, key: str) -> np.ndarray:
        """The clip of `key`, checked: a clip that fails its checksum is never returned."""
        path = self.path(key)
        clip = read_clip_file(path)
        if clip is None:
            raise SpeechError(f"the speech-cache clip {path} is damaged or was removed during the render", "run the command again: the clip is synthesised again")
        return clip

    def _intact(self, key: str) -> bool:
        """Whether the clip of `key` is in this cache and whole. A damaged or truncated one is
        removed (and counted), so that it is synthesised again; it is never played."""
        path = self.path(key)
        try:
            stat = path.stat()
        except OSError:
            return False
        if self._checked.get(key) == (stat.st_size, stat.st_mtime_ns):
            return True
        if read_clip_file(path) is not None:
            self._checked[key] = (stat.st_size, stat.st_mtime_ns)
            return True
        with contextlib.suppress(OSError):
            path.unlink()
        with self._count_lock:
            self.damaged += 1
        return False

    def ensure(self, texts: Iterable[str], voice: VoiceSettings, progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
        """Make sure every text has a clip; return text → cache key. Synthesises only what is missing."""
        keys = {text: self.key(text, voice) for text in dict.fromkeys(texts)}
        missing = [text for text, key in keys.items() if not self._intact(key)]
        missing = [text for text in missing if not self._fetch(keys[text])]  # the shared store first
        jobs = min(max(1, int(getattr(self.synthesizer, "parallelism", 1))), len(missing))
        if jobs <= 1:
            for done, text in enumerate(missing, 1):
                self._speak(text, voice, keys[text])
                if progress:
                    progress(done, len(missing))
            return keys
        pool = concurrent.futures.ThreadPoolExecutor(jobs, thread_name_prefix="attune-speech")
        futures = [pool.submit(self._speak, text, voice, keys[text], False) for text in missing]
        try:
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                future.result()
                if progress:
                    progress(done, len(missing))
        except BaseException as exc:
            # The first failure (or Ctrl-C) is reported: the sentences not begun never start, the ones
            # being spoken stop at once, and the engine is usable again once every thread has ended.
            pool.shutdown(wait=False, cancel_futures=True)
            stop_engine(self.synthesizer)
            pool.shutdown(wait=True)
            self.synthesizer.close()
            if isinstance(exc, EngineStopped):  # refused because another sentence failed: report that one
                cause = next((f.exception() for f in futures if not f.cancelled() and not isinstance(f.exception(), EngineStopped | None)), None)
                if cause is not None:
                    raise cause from None
            raise
        pool.shutdown(wait=True)
        return keys

    def _speak(self, text: str, voice: VoiceSettings, key: str, close_on_error: bool = True) -> None:
        """Synthesise one clip into this cache, then offer it to the shared store (if any)."""
        self._synthesize(text, voice, key, close_on_error)
        self._publish(key)

    def shared_key(self, key: str) -> str:
        """A clip's place in the shared store: `<engine>/<key[:2]>/<key>.npy`."""
        return f"{self.engine_key}/{key[:2]}/{key}.npy"

    def _store(self) -> tuple[Any, str] | None:
        if self.shared is None:
            return None
        if self._shared_fs is None:
            self._shared_fs = self.shared.filesystem()
        return self._shared_fs

    def _fetch(self, key: str) -> bool:
        """Copy the clip from the shared store into this cache; False when the store has none."""
        store = self._store()
        if store is None:
            return False
        fs, root = store
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(final) as tmp:
                fs.get_file(f"{root}/{self.shared_key(key)}", str(tmp))
                if read_clip_file(tmp) is None:  # damaged in the store: synthesised here instead
                    raise FileNotFoundError(tmp)
        except FileNotFoundError:
            return False
        self.fetched += 1
        return True

    def _publish(self, key: str) -> None:
        """Write the clip to the shared store once: a temporary name unique across machines, then moved
        to its key. A store that cannot be written does not stop the render (the clip is here)."""
        store = self._store()
        if store is None:
            return
        fs, root = store
        final = f"{root}/{self.shared_key(key)}"
        tmp = f"{final.rpartition('/')[0]}/.{key}.npy.{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}.part"
        try:
            if fs.exists(final):
                return
            fs.put_file(str(self.path(key)), tmp)
            fs.mv(tmp, final)
            self.shared_written += 1
        except OSError:
            with contextlib.suppress(Exception):
                fs.rm_file(tmp)

    def _synthesize(self, text: str, voice: VoiceSettings, key: str, close_on_error: bool = True) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="attune-tts-", ignore_cleanup_errors=True) as scratch:
            wav = Path(scratch) / "speech.wav"
            try:
                self.synthesizer.synthesize(text, voice, wav)
            except BaseException:
                # Stop the engine before its scratch folder goes: it may still be writing there.
                # (In parallel, `ensure` stops every worker once, after the first failure.)
                if close_on_error:
                    stop_engine(self.synthesizer)
                    self.synthesizer.close()
                raise
            if not wav.exists() or wav.stat().st_size <= 44:
                raise SpeechError(f"the speech engine wrote no audio for {excerpt(text)}", "try again; if it persists, run `attune doctor`")
            samples, rate_hz = read_wav_mono(wav)
        clip = process_clip(samples, rate_hz, text, voice.rate_wpm)
        with atomic_path(final) as tmp, open(tmp, "wb") as handle:
            handle.write(clip_file_bytes(clip))
        with self._count_lock:
            self.synthesized += 1
