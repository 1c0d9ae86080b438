"""Managing access after a batch: list the links, rotate a client's token, revoke a client.

Rotation republishes the client from the kept tracks (`DIR/tracks/`) and the roster the manifest
names, under a new token, then removes the old folder: nothing is rendered again, the old URLs stop
working, the other clients keep theirs.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputError
from ..system.atomic import write_text
from .access import LINKS_NAME, Access, client_urls, links_csv
from .feed import check_base_url
from .layout import batch_lock
from .manifest import MANIFEST_NAME, Manifest
from .publish import publication_fingerprint, publish_client, unpublish
from .roster import load_roster


def _root(folder: Path) -> Path:
    root = Path(folder).resolve()
    if not (root / "access.json").is_file():
        raise OutputError(
            "this folder has no access.json: it is not a batch's output folder", "give the folder you passed to `attune batch -o`", path=str(folder)
        )
    return root


def client_links(folder: Path, base_url: str | None = None) -> list[tuple[str, str, str, str]]:
    """(client, state, page, feed) for every client; links under `base_url`, else the last batch's, else paths."""
    root = _root(folder)
    access = Access.load(root)
    base = check_base_url(base_url) if base_url else access.base_url
    rows = []
    for entry in access.clients.values():
        page, feed = client_urls(entry, base, root) if entry.active else ("-", "-")
        rows.append((entry.name, entry.state, page, feed))
    return rows


def rotate_client(folder: Path, name: str, base_url: str | None = None) -> tuple[str, str]:
    """A new token for `name`, their folder republished under it; returns the new (page, feed).
    Not while a batch writes the folder (it would write access.json back without the new token)."""
    root = _root(folder)
    with batch_lock(root):
        return _rotate(root, name, base_url)


def _rotate(root: Path, name: str, base_url: str | None) -> tuple[str, str]:
    access = Access.load(root)
    old = access.get(name)
    base = check_base_url(base_url) if base_url else access.base_url
    manifest = Manifest.load(root / MANIFEST_NAME, "")
    entries = sorted((e for e in manifest.tracks.values() if e.client_id == old.id and e.intact(root, check_sha256=False)), key=lambda e: e.number)
    new = access.rotate(name)
    if entries:
        roster = load_roster(Path(manifest.roster))
        client = next((c for c in roster.clients if c.name == name), None)
        if client is None:
            raise OutputError(f"{name!r} is no longer in the roster {manifest.roster}", "run the batch again, then rotate", path=str(root))
        publish_client(roster, client, new, root, entries, base)
        access.set_published(name, publication_fingerprint(roster, client, new, entries, base))
    access.base_url = base
    access.save()
    unpublish(root, old.token)
    write_text(root / LINKS_NAME, links_csv(access, root, base))
    return client_urls(new, base, root)


def revoke_client(folder: Path, name: str) -> None:
    """Unpublish `name`'s folder; later batches do not publish them until they are rotated.
    Not while a batch writes the folder."""
    root = _root(folder)
    with batch_lock(root):
        _revoke(root, name)


def _revoke(root: Path, name: str) -> None:
    access = Access.load(root)
    old = access.get(name)
    access.revoke(name)
    access.save()
    unpublish(root, old.token)
    write_text(root / LINKS_NAME, links_csv(access, root, access.base_url))
