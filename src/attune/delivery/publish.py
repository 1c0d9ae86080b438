"""Publishing one client: their folder under `DIR/public/<token>/`, assembled from the kept tracks.

The folder is built beside its place (a hidden `.TOKEN.part-…` folder: tracks linked, or copied,
from `DIR/tracks/`; chapters; captions; cover; page; feed; zip) and renamed into place when complete,
so a published folder is always whole. A client whose folder would be the same as the one already
published is left alone. Nothing published names the client: file names, the zip's folder and the
episode guids come from the track's place and the client's private id.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import AttuneError, ScriptError
from ..formats import FORMATS
from ..media.cover import cover_mime
from ..system.files import sha256_file
from .access import ClientAccess, client_urls
from .feed import DEFAULT_CATEGORY, ENCLOSURE_TYPES, AlternateEnclosure, FeedChannel, FeedItem, chapters_json, feed_xml, guid_for
from .layout import PUBLIC, PUBLIC_INDEX, ROBOTS, inside, public_stem, temporary_folder
from .manifest import TrackEntry
from .page import PageFile, PageTrack, listening_time, page_html
from .roster import Client, Roster
from .store import Store

ZIP_NAME = "practice.zip"
#: Episodes of a feed are dated this far apart, in roster order, from the day the client was added.
EPISODE_SPACING = timedelta(minutes=1)
#: The folder of the speech cache where generated and fitted covers are kept.
COVERS = "covers"


def roster_with_cover(roster: Roster, cache_dir: Path) -> Roster:
    """The roster with a cover podcast apps accept: its own when square and 1400–3000 px, else a
    letterboxed and scaled copy, and a generated one (title and practitioner) when it names none.
    Made once into `cache_dir/covers/` and found there again, so every format embeds the same file."""
    from ..media.artwork import fitted_cover, generated_cover

    folder = Path(cache_dir) / COVERS
    if roster.cover is None:
        return dataclasses.replace(roster, cover=generated_cover(roster.title, roster.practitioner, folder))
    try:
        return dataclasses.replace(roster, cover=fitted_cover(roster.cover, folder))
    except AttuneError as exc:  # an image Pillow cannot read: the roster's `cover:` line
        raise ScriptError(exc.message, exc.hint, path=str(roster.path), line=roster.cover_line or 1) from None


def episode_dates(created: str, count: int) -> list[datetime]:
    """The publication dates of a client's episodes, 1..count: from the day the client was added
    (access.json, unchanged by re-runs and renders), a minute apart, so apps list them in roster order."""
    try:
        start = datetime.fromisoformat(created)
    except ValueError:
        start = datetime(2000, 1, 1, tzinfo=UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start = start.replace(microsecond=0)
    return [start + EPISODE_SPACING * index for index in range(count)]


def episode_description(entry: TrackEntry, roster: Roster) -> str:
    """What an app shows under an episode: the script's description, else a line made from what it is."""
    if entry.description:
        return entry.description
    chapters = [title for title, _ in entry.chapters]
    parts = f" In {len(chapters)} parts: {', '.join(chapters)}." if len(chapters) > 1 else ""
    return f"{entry.title}: a guided practice ({listening_time(entry.duration_s)}) from {roster.practitioner}.{parts}"


def write_public_root(store: Store) -> None:
    """`public/robots.txt` (index nothing) and `public/index.html` (an empty page in place of a listing)."""
    for name, text in ((f"{PUBLIC}/robots.txt", ROBOTS), (f"{PUBLIC}/index.html", PUBLIC_INDEX)):
        try:
            if store.read_text(name) == text:
                continue
        except (OSError, ValueError):
            pass
        store.write_text(name, text)


def publication_fingerprint(roster: Roster, client: Client, access: ClientAccess, entries: Sequence[TrackEntry], base_url: str | None) -> str:
    """What a client's published folder is made from: if this is unchanged, so is the folder."""
    cover = sha256_file(roster.cover) if roster.cover is not None else None
    material = [
        access.token,
        base_url,
        roster.practitioner,
        roster.title,
        roster.description,
        roster.language,
        roster.contact,
        roster.category,
        roster.serial(client),
        access.created,
        client.name,
        client.message,
        cover,
        [(e.key, e.fingerprint, {k: f.sha256 for k, f in e.files.items()}) for e in entries],
    ]
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def publish_client(roster: Roster, client: Client, access: ClientAccess, root: Path, entries: Sequence[TrackEntry], base_url: str | None) -> Path:
    """Build the client's public folder from `entries` (tracks whose files are intact) and put it in
    place of the one published before, if any. Returns the folder."""
    public = root / PUBLIC
    final = inside(root, public / access.token)
    build = temporary_folder(public, access.token)
    try:
        _build(roster, client, access, root, build, entries, base_url)
        old = None
        if final.exists():
            old = public / f".{access.token}.old-{os.getpid()}"
            os.rename(final, old)
        os.rename(build, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return final


def publish_to_store(store: Store, roster: Roster, client: Client, access: ClientAccess, entries: Sequence[TrackEntry], base_url: str | None,
                     run_id: str, scratch: Path) -> str:  # fmt: skip
    """Publish a client on object storage, where their track files already are the objects of their
    public folder (`public/<token>/`, uploaded by the renders): the page, feed, chapters, cover and
    zip are built in `scratch` (the tracks downloaded for the zip) and uploaded beside them, the
    page and feed last; what the folder no longer has is removed. Returns the folder's URL."""
    prefix = f"{PUBLIC}/{access.token}"
    root = (scratch / "root").resolve()
    for entry in entries:
        for file in entry.files.values():
            local = root / file.path
            local.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(file.path, local)
    (root / PUBLIC).mkdir(exist_ok=True)
    folder = publish_client(roster, client, access, root, entries, base_url)
    in_place = {file.path for entry in entries for file in entry.files.values() if file.path.startswith(prefix + "/")}
    store.replace_tree(folder, prefix, run_id, last=("feed.xml", "index.html"), in_place=in_place)
    return store.display(prefix)


def unpublish(root: Path, token: str) -> None:
    """Remove a client's published folder (revoked, or moved by a rotation)."""
    folder = inside(root, root / PUBLIC / token)
    if folder.exists():
        gone = root / PUBLIC / f".{token}.gone-{os.getpid()}"
        os.rename(folder, gone)  # the URLs stop working at once
        shutil.rmtree(gone, ignore_errors=True)


def _place(source: Path, target: Path) -> None:
    """The kept file at `target` in the folder being built: a hard link (no copy), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _build(roster: Roster, client: Client, access: ClientAccess, root: Path, folder: Path, entries: Sequence[TrackEntry], base_url: str | None) -> None:
    page_url, feed_url = client_urls(access, base_url, root)
    if not base_url:
        page_url, feed_url = Path(page_url).as_uri(), Path(feed_url).as_uri()

    def url(name: str) -> str:
        return f"{base_url}{access.token}/{name}" if base_url else (root / PUBLIC / access.token / name).as_uri()

    cover_name = None
    if roster.cover is not None:
        cover_name = "cover.png" if cover_mime(roster.cover) == "image/png" else "cover.jpg"
        shutil.copyfile(roster.cover, folder / cover_name)

    page_tracks, feed_items = [], []
    dates = episode_dates(access.created, len(client.tracks))
    for entry in entries:
        stem = public_stem(entry.track, client.name)
        formats = []
        for kind, file in entry.audio_files:
            name = f"{stem}{Path(file.path).suffix}"
            _place(inside(root, root / file.path), folder / name)
            formats.append((name, kind, FORMATS[kind].mime if kind in FORMATS else "application/octet-stream", file))
        feed_types = [ENCLOSURE_TYPES.get(kind, mime) for _, kind, mime, _ in formats]
        vtt_name = None
        if entry.captions is not None:
            vtt_name = f"{stem}.vtt"
            _place(inside(root, root / entry.captions.path), folder / vtt_name)
        chapters_name = None
        if entry.chapters:
            chapters_name = f"{stem}.chapters.json"
            (folder / chapters_name).write_bytes(chapters_json(entry.chapters))
        audio = entry.audio
        duration_s = audio.duration_s if audio.duration_s is not None else entry.duration_s
        description = episode_description(entry, roster)
        page_tracks.append(PageTrack(
            number=entry.number, title=entry.title, duration_s=duration_s, mp3_name=formats[0][0], vtt_name=vtt_name,
            description=entry.description, transcript=entry.transcript or "", audio_files=tuple((n, k, m) for n, k, m, _ in formats),
            files=tuple(PageFile(n, k, f.bytes, f.duration_s, f.track_lufs, f.true_peak_dbtp, f.bitrate_kbps) for n, k, _, f in formats),
        ))  # fmt: skip
        published = dates[entry.number - 1] if 1 <= entry.number <= len(dates) else datetime.fromisoformat(entry.rendered_at)
        feed_items.append(FeedItem(
            title=entry.title, guid=guid_for(access.id, entry.track), published=published,
            url=url(formats[0][0]), length_bytes=audio.bytes, duration_s=duration_s, number=entry.number, description=description,
            transcript_url=url(vtt_name) if vtt_name else None, transcript_language=roster.language,
            chapters_url=url(chapters_name) if chapters_name else None, mime=feed_types[0], chapters=entry.chapters,
            alternates=tuple(AlternateEnclosure(url(n), f.bytes, t, k.upper(), round(f.bitrate_kbps * 1000) if f.bitrate_kbps else None)
                             for (n, k, _, f), t in zip(formats[1:], feed_types[1:])),
        ))  # fmt: skip

    page = functools.partial(page_html, client_name=client.name, practitioner=roster.practitioner, title=roster.title, description=roster.description,
                language=roster.language, cover_name=cover_name, tracks=page_tracks, message=client.message, contact=roster.contact,
                feed_url=feed_url if base_url else None)  # fmt: skip
    (folder / "index.html").write_text(page(zip_name=ZIP_NAME), encoding="utf-8")
    channel = FeedChannel(
        title=f"{roster.title} · {client.name}", link=page_url,
        description=roster.description or f"Practice recordings for {client.name} from {roster.practitioner}.",
        language=roster.language, author=roster.practitioner, image_url=url(cover_name) if cover_name else None,
        self_url=feed_url if base_url else None, owner_email=roster.contact, category=roster.category or DEFAULT_CATEGORY,
        serial=roster.serial(client),
    )  # fmt: skip
    (folder / "feed.xml").write_bytes(feed_xml(channel, feed_items))
    # The zip holds the recordings and a page for them (without its own download link).
    members = sorted(p for p in folder.iterdir() if p.name not in ("feed.xml", "index.html"))
    write_zip(folder / ZIP_NAME, "practice", members, {"index.html": page().encode("utf-8")})


def write_zip(zip_path: Path, folder: str, members: list[Path], extra: dict[str, bytes] | None = None) -> None:
    """A zip whose entries unpack into `folder/`: the files `members`, and `extra` (name → bytes).
    (Not atomic itself: it is part of a folder that appears whole.)"""
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(f"{folder}/{name}", date_time=(2000, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
        for member in members:
            info = zipfile.ZipInfo.from_file(member, arcname=f"{folder}/{member.name}")
            # Audio and images are compressed already; text (the page, captions, chapters) deflates well.
            info.compress_type = zipfile.ZIP_DEFLATED if member.suffix in (".html", ".vtt", ".json", ".xml", ".wav") else zipfile.ZIP_STORED
            with open(member, "rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
