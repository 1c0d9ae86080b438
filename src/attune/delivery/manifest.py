"""The batch manifest (`DIR/manifest.json`): what was rendered, from what, with sizes, sums and figures.

Typed both ways: `Manifest.load` reads the JSON into `TrackEntry` dataclasses and `Manifest.save`
writes them back; nothing outside this module reaches into the JSON by string keys. An unreadable or
foreign manifest reads as empty, so every track renders again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import AttuneError
from ..system.atomic import write_text
from ..system.files import sha256_file
from .layout import inside

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """One file of a track, relative to the output folder, and what that file measures (decoded; for
    audio files): the BS.1770 loudness of its voice and of the whole file, and its true peak."""

    path: str
    bytes: int
    sha256: str
    duration_s: float | None = None
    voice_lufs: float | None = None
    track_lufs: float | None = None
    true_peak_dbtp: float | None = None
    #: The audio stream's own bitrate (its packets, without tags and cover art).
    bitrate_kbps: float | None = None

    @staticmethod
    def of(
        path: Path, root: Path, duration_s: float | None = None, *, voice_lufs: float | None = None, track_lufs: float | None = None,
        true_peak_dbtp: float | None = None, bitrate_kbps: float | None = None,
    ) -> FileEntry:
        """The entry for an existing file under `root`, with its measured figures (2 decimals; None for none or silence)."""
        return FileEntry(
            path.relative_to(root).as_posix(), path.stat().st_size, sha256_file(path), None if duration_s is None else round(duration_s, 3),
            rounded_figure(voice_lufs), rounded_figure(track_lufs), rounded_figure(true_peak_dbtp), rounded_figure(bitrate_kbps),
        )  # fmt: skip

    def intact(self, root: Path, *, check_sha256: bool = True) -> bool:
        """The file exists inside `root` with the recorded size (and sha256)."""
        try:
            path = inside(root, root / self.path)
            if not path.is_file() or path.stat().st_size != self.bytes:
                return False
            return not check_sha256 or sha256_file(path) == self.sha256
        except (OSError, AttuneError):
            return False


def rounded_figure(value: float | None) -> float | None:
    """A measured figure for JSON: 2 decimals; None (null) for no value or -inf (silence)."""
    return round(value, 2) if value is not None and value > float("-inf") else None


@dataclass(frozen=True)
class TrackEntry:
    """One rendered track: who it is for, what it was made from, what was written and what it measures."""

    client: str
    #: The client's private id (access.json): their tracks' folder, and their episodes' guids.
    client_id: str
    track: str
    number: int
    script: str
    length_s: float | None
    voice: str | None
    title: str
    title_override: str | None
    description: str | None
    artist: str | None
    voice_id: str
    duration_s: float
    fingerprint: str
    rendered_at: str
    transcript: str
    #: Files by kind: the audio first ("mp3"), then "vtt" captions.
    files: Mapping[str, FileEntry]
    #: Measured on the main (first) file as written (`attune.media.measure`); voice_lufs is None with
    #: no voice. Each file's own figures are in `files`.
    voice_lufs: float | None = None
    track_lufs: float | None = None
    true_peak_dbtp: float | None = None
    limiter_reduction_db: float | None = None
    #: The sections: (title, start_s) each, for the podcast chapters file.
    chapters: tuple[tuple[str, float], ...] = ()
    #: The track's key in the layout (`tracks/<client id>/<track>.<format>`) when its files are
    #: elsewhere: on object storage each file is one object, in the client's public folder, and
    #: `files` point at it there (None: the files are at the key, as in a local folder).
    kept: str | None = None

    @property
    def key(self) -> str:
        """The track's identity in the manifest: its key in the layout (where a local folder keeps its audio)."""
        return self.kept or self.audio.path

    @property
    def audio(self) -> FileEntry:
        return next(entry for kind, entry in self.files.items() if kind != "vtt")

    @property
    def audio_files(self) -> list[tuple[str, FileEntry]]:
        """Every audio file, by format name, the main one first."""
        return [(kind, entry) for kind, entry in self.files.items() if kind != "vtt"]

    @property
    def captions(self) -> FileEntry | None:
        return self.files.get("vtt")

    def intact(self, root: Path, *, check_sha256: bool = True) -> bool:
        """Every file of the track is there, as recorded."""
        return bool(self.files) and all(entry.intact(root, check_sha256=check_sha256) for entry in self.files.values())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = {kind: {k: v for k, v in asdict(entry).items() if v is not None} for kind, entry in self.files.items()}
        if self.kept is None:
            del data["kept"]
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> TrackEntry:
        """Raises KeyError, TypeError or ValueError for an entry that is not one."""
        names = {f.name for f in fields(TrackEntry)}
        values = {key: value for key, value in data.items() if key in names}
        values["files"] = {str(kind): FileEntry(**entry) for kind, entry in data["files"].items()}
        values["chapters"] = tuple((str(title), float(start)) for title, start in data.get("chapters", ()))
        entry = TrackEntry(**values)
        if not entry.files or not isinstance(entry.audio.path, str):
            raise ValueError("a track entry needs an audio file")
        return entry


def relocated(entry: TrackEntry, path_of: Callable[[str], str]) -> TrackEntry:
    """`entry` with each file at `path_of(its suffix)` (".mp3", ".vtt"…), its key kept."""
    files = {kind: replace(file, path=path_of(PurePosixPath(file.path).suffix)) for kind, file in entry.files.items()}
    return replace(entry, files=files, kept=entry.key)


@dataclass
class Manifest:
    """Every track rendered into one output folder, by key."""

    roster: str
    tracks: dict[str, TrackEntry] = field(default_factory=dict)

    @staticmethod
    def load(path: Path, roster: str) -> Manifest:
        """The manifest at `path`; an unreadable or foreign one is empty (every track renders again)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, ValueError):
            return Manifest(roster)
        return Manifest.parse(text, roster)

    @staticmethod
    def parse(text: str | None, roster: str) -> Manifest:
        """The manifest in `text` (read from any destination); empty when it is not one."""
        manifest = Manifest(roster)
        try:
            data = json.loads(text or "")
        except ValueError:
            return manifest
        if not isinstance(data, dict) or data.get("attune_manifest") != MANIFEST_VERSION or not isinstance(data.get("tracks"), list):
            return manifest
        if isinstance(data.get("roster"), str):
            manifest.roster = data["roster"]
        for item in data["tracks"]:
            try:
                entry = TrackEntry.from_json(item)
            except (KeyError, TypeError, ValueError, AttributeError, StopIteration):
                continue
            manifest.tracks[entry.key] = entry
        return manifest

    def save(self, path: Path, keys: Iterable[str]) -> None:
        """Write the entries of `keys` (in that order; others are dropped), atomically."""
        write_text(path, self.dumps(keys))

    def dumps(self, keys: Iterable[str]) -> str:
        """The JSON of the entries of `keys`, in that order."""
        tracks = [self.tracks[key].to_json() for key in keys if key in self.tracks]
        data = {"attune_manifest": MANIFEST_VERSION, "roster": self.roster, "tracks": tracks}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
