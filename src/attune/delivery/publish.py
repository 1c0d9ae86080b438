"""Publishing one client: their listening page, private podcast feed, cover and zip, from the manifest.

Files are rewritten only when their bytes change, so an unchanged batch leaves them (and their
times) alone; every write is atomic.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ..media.cover import cover_mime
from ..media.formats import FORMATS
from ..system.atomic import atomic_path
from .feed import AlternateEnclosure, FeedChannel, FeedItem, feed_xml, file_url, guid_for
from .layout import inside, sha256_file
from .manifest import TrackEntry
from .page import PageTrack, page_html
from .roster import Client, Roster


def write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def copy_if_changed(source: Path, target: Path) -> None:
    try:
        if target.stat().st_size == source.stat().st_size and sha256_file(target) == sha256_file(source):
            return
    except OSError:
        pass
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def publish_client(roster: Roster, client: Client, out_root: Path, entries: Sequence[TrackEntry], base_url: str | None) -> None:
    """Write the client's page, feed, cover and zip for the tracks in `entries` whose files are there."""
    client_dir = inside(out_root, out_root / client.slug)
    ready = [entry for entry in entries if entry.intact(out_root, check_sha256=False)]

    cover_name = None
    if roster.cover is not None:
        cover_name = "cover.png" if cover_mime(roster.cover) == "image/png" else "cover.jpg"
        copy_if_changed(roster.cover, inside(out_root, client_dir / cover_name))

    def url(relative: str) -> str:
        return file_url(relative, base_url=base_url, root=out_root)

    page_tracks, feed_items = [], []
    for entry in ready:
        audio, vtt = entry.audio, entry.captions
        audio_name = Path(audio.path).name
        duration_s = audio.duration_s if audio.duration_s is not None else entry.duration_s
        formats = [(kind, file, _mime(kind)) for kind, file in entry.audio_files]
        page_tracks.append(
            PageTrack(
                number=entry.number,
                title=entry.title,
                duration_s=duration_s,
                mp3_name=audio_name,
                vtt_name=Path(vtt.path).name if vtt else None,
                description=entry.description,
                transcript=entry.transcript or "",
                audio_files=tuple((Path(file.path).name, kind, mime) for kind, file, mime in formats),
            )
        )
        feed_items.append(
            FeedItem(
                title=entry.title,
                guid=guid_for(client.slug, audio_name),
                published=datetime.fromisoformat(entry.rendered_at),
                url=url(audio.path),
                length_bytes=audio.bytes,
                duration_s=duration_s,
                number=entry.number,
                description=entry.description,
                transcript_url=url(vtt.path) if vtt else None,
                transcript_language=roster.language,
                mime=formats[0][2],
                alternates=tuple(AlternateEnclosure(url(file.path), file.bytes, mime, kind.upper()) for kind, file, mime in formats[1:]),
            )
        )

    html = page_html(
        client_name=client.name,
        practitioner=roster.practitioner,
        title=roster.title,
        description=roster.description,
        language=roster.language,
        cover_name=cover_name,
        tracks=page_tracks,
    )
    page_path = inside(out_root, client_dir / "index.html")
    write_if_changed(page_path, html.encode("utf-8"))

    channel = FeedChannel(
        title=f"{roster.title} · {client.name}",
        link=url(f"{client.slug}/index.html"),
        description=roster.description or f"Practice recordings for {client.name} from {roster.practitioner}.",
        language=roster.language,
        author=roster.practitioner,
        image_url=url(f"{client.slug}/{cover_name}") if cover_name else None,
        self_url=url(f"{client.slug}/feed.xml") if base_url else None,
    )
    write_if_changed(inside(out_root, client_dir / "feed.xml"), feed_xml(channel, feed_items))

    members = [inside(out_root, out_root / file.path) for entry in ready for file in entry.files.values()]
    members.append(page_path)
    if cover_name:
        members.append(client_dir / cover_name)
    write_zip(inside(out_root, out_root / f"{client.slug}.zip"), client.slug, members)


def write_zip(zip_path: Path, folder: str, members: list[Path]) -> None:
    """A zip whose entries unpack into `folder/`; audio and images are stored, text is deflated."""
    with atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for member in members:
            info = zipfile.ZipInfo.from_file(member, arcname=f"{folder}/{member.name}")
            info.compress_type = zipfile.ZIP_STORED if member.suffix in (".mp3", ".png", ".jpg") else zipfile.ZIP_DEFLATED
            with open(member, "rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)


def _mime(kind: str) -> str:
    return FORMATS[kind].mime if kind in FORMATS else "application/octet-stream"
