"""`attune access rotate|revoke` on object storage, where each track file is one object.

A published client's track files are the objects of their public folder (`public/<token>/`), and
the manifest points at them (`attune.delivery.store.Store.keeps_in_public`). Nothing is rendered or
uploaded again:

- rotate: each file is copied once, by the storage itself (S3 CopyObject), to the new token's
  folder; the page, feed, chapters and zip are built there (the zip needs the tracks' bytes, so
  they are downloaded once); then the manifest and access.json name the new place, and the old
  folder is removed, so its URLs stop working. A revoked client's files come from `tracks/<id>/`.
- revoke: the files are moved (copied, then deleted) to `tracks/<client id>/`, out of public reach,
  the manifest follows them, and the rest of the public folder is removed.

Stopped half way, the batch's own files (manifest, access.json) still name objects that exist: the
new copies are removed with the old folder only after both are saved.
"""

from __future__ import annotations

import functools
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import OutputError
from .access import ACCESS_MODE, ACCESS_NAME, LINKS_NAME, Access, client_urls, links_csv
from .feed import check_base_url
from .layout import PUBLIC, kept_path, public_path
from .manifest import MANIFEST_NAME, Manifest, TrackEntry, relocated
from .publish import publication_fingerprint, publish_to_store, roster_with_cover
from .roster import load_roster
from .store import Store


def read_access(store: Store) -> Access:
    text = store.read_text(ACCESS_NAME)
    if text is None:
        raise OutputError(
            f"{store.display()} has no access.json: it is not a batch's destination", "give the URL you passed to `attune batch -o`", path=store.display()
        )
    return Access.parse(text, Path(ACCESS_NAME))


def _move(store: Store, entries: list[TrackEntry], where: Callable[[TrackEntry, str], str]) -> tuple[list[TrackEntry], list[str]]:
    """Each entry's files copied (inside the storage) to `where(entry, suffix)`; returns the moved
    entries and the old keys, to remove once the manifest names the new ones."""
    moved, old = [], []
    for entry in entries:
        new = relocated(entry, functools.partial(where, entry))
        for before, after in zip(entry.files.values(), new.files.values()):
            if before.path != after.path:
                store.copy(before.path, after.path)
                old.append(before.path)
        moved.append(new)
    return moved, old


def _save(store: Store, access: Access, manifest: Manifest, base: str | None) -> None:
    store.write_text(MANIFEST_NAME, manifest.dumps(list(manifest.tracks)))
    store.write_text(ACCESS_NAME, access.dumps(), mode=ACCESS_MODE)
    store.write_text(LINKS_NAME, links_csv(access, Path(store.display()), base, published=lambda t: store.exists(f"{PUBLIC}/{t}/index.html")))


def _client_entries(store: Store, manifest: Manifest, client_id: str) -> list[TrackEntry]:
    return sorted((e for e in manifest.tracks.values() if e.client_id == client_id and all(store.intact(f) for f in e.files.values())),
                  key=lambda e: e.number)  # fmt: skip


def rotate_remote(store: Store, name: str, base_url: str | None) -> tuple[str, str]:
    access = read_access(store)
    old = access.get(name)
    base = check_base_url(base_url) if base_url else access.base_url
    manifest = Manifest.parse(store.read_text(MANIFEST_NAME), "")
    entries = _client_entries(store, manifest, old.id)
    new = access.rotate(name)
    stale: list[str] = []
    if entries:
        roster = load_roster(Path(manifest.roster))
        client = next((c for c in roster.clients if c.name == name), None)
        if client is None:
            raise OutputError(f"{name!r} is no longer in the roster {manifest.roster}", "run the batch again, then rotate", path=store.display())
        with tempfile.TemporaryDirectory(prefix="attune-rotate-") as scratch:
            roster = roster_with_cover(roster, Path(scratch) / "cover")
            entries, stale = _move(store, entries, lambda e, suffix: public_path(new.token, e.track, name, suffix))
            publish_to_store(store, roster, client, new, entries, base, secrets.token_hex(6), Path(scratch))
            access.set_published(name, publication_fingerprint(roster, client, new, entries, base))
        manifest.tracks.update({e.key: e for e in entries})
    access.base_url = base
    _save(store, access, manifest, base)
    store.remove(sorted(set(stale) | set(store.listing(f"{PUBLIC}/{old.token}"))))
    return client_urls(new, base, Path(store.display()))


def revoke_remote(store: Store, name: str) -> None:
    access = read_access(store)
    old = access.get(name)
    manifest = Manifest.parse(store.read_text(MANIFEST_NAME), "")
    entries = _client_entries(store, manifest, old.id)
    entries, stale = _move(store, entries, lambda e, suffix: kept_path(e.client_id, e.track, suffix))
    manifest.tracks.update({e.key: e for e in entries})
    access.revoke(name)
    _save(store, access, manifest, access.base_url)
    store.remove(sorted(set(stale) | set(store.listing(f"{PUBLIC}/{old.token}"))))
