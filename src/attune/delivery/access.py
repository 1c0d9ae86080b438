"""Who may listen: each client's private token, its state, and the links a practitioner sends.

`DIR/access.json` (kept, mode 0600) maps every client, by their exact roster name, to:

    id       a random id that never changes: the client's private track folder and the episode guids
    token    a random URL-safe token (128 bits, 22 characters, from `secrets`): the published folder
             `DIR/public/<token>/`; rotating gives a new one, and the old URLs stop working
    state    "active" or "revoked" (a revoked client is not published until rotated again)

Tokens are stable: a re-run of the same roster, or another `--base-url`, keeps every client's URLs.
Nothing here is derived from a name, so two clients whose names look alike are two clients.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from ..errors import AttuneError, OutputError
from ..system.atomic import atomic_path

ACCESS_NAME = "access.json"
LINKS_NAME = "links.csv"
ACCESS_VERSION = 1
#: Bytes of randomness in a token: 16 bytes (128 bits) is 22 URL-safe characters.
TOKEN_BYTES = 16
#: The file holds the keys to every client's recordings: readable by its owner only.
ACCESS_MODE = 0o600


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ClientAccess:
    """One client's entry in access.json."""

    name: str
    id: str
    token: str
    state: str = "active"
    created: str = ""
    rotated: str | None = None
    revoked: str | None = None
    #: What the client's published folder was built from (skipped when it has not changed).
    published: str | None = None

    @property
    def active(self) -> bool:
        return self.state == "active"


class UnknownClient(AttuneError):
    """A client name that is not in access.json."""


@dataclass
class Access:
    """Every client's access, by exact name, and the base URL the last batch published under."""

    path: Path
    clients: dict[str, ClientAccess]
    base_url: str | None = None

    @staticmethod
    def load(folder: Path) -> Access:
        """The access file of an output folder (empty when there is none yet)."""
        path = Path(folder) / ACCESS_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Access(path, {})
        except OSError as exc:
            raise OutputError(
                f"cannot read {ACCESS_NAME}: {exc}", "restore it from a backup; without it every client would get new links", path=str(path)
            ) from None
        return Access.parse(text, path)

    @staticmethod
    def parse(text: str | None, path: Path) -> Access:
        """The access file in `text` (None: there is none yet), read from `path` (any destination)."""
        if text is None:
            return Access(path, {})
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OutputError(
                f"cannot read {ACCESS_NAME}: {exc}", "restore it from a backup; without it every client would get new links", path=str(path)
            ) from None
        if not isinstance(data, dict) or data.get("attune_access") != ACCESS_VERSION or not isinstance(data.get("clients"), list):
            raise OutputError(f"{ACCESS_NAME} is not an Attune access file", "restore it from a backup, or choose another folder with -o", path=str(path))
        clients = {}
        for item in data["clients"]:
            entry = ClientAccess(**{k: item[k] for k in ("name", "id", "token", "state", "created", "rotated", "revoked", "published") if k in item})
            clients[entry.name] = entry
        return Access(path, clients, data.get("base_url"))

    def save(self) -> None:
        """Write access.json atomically, readable by its owner only."""
        with atomic_path(self.path, mode=ACCESS_MODE) as tmp:
            tmp.write_text(self.dumps(), encoding="utf-8")

    def dumps(self) -> str:
        data = {"attune_access": ACCESS_VERSION, "base_url": self.base_url, "clients": [asdict(c) for c in self.clients.values()]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def ensure(self, names: Iterable[str]) -> list[ClientAccess]:
        """Every named client's access, giving a token to those who have none."""
        out = []
        for name in names:
            entry = self.clients.get(name)
            if entry is None:
                entry = ClientAccess(name=name, id=secrets.token_hex(8), token=new_token(), created=_now())
                self.clients[name] = entry
            out.append(entry)
        return out

    def get(self, name: str) -> ClientAccess:
        """The client with exactly this name; UnknownClient (with close matches) otherwise."""
        entry = self.clients.get(name)
        if entry is not None:
            return entry
        close = difflib.get_close_matches(name, list(self.clients), n=3, cutoff=0.5)
        close += [n for n in self.clients if n.lower() == name.lower() and n not in close]
        hint = f"did you mean {', '.join(repr(n) for n in close)}?" if close else "run `attune access list` to see the clients"
        raise UnknownClient(f"no client named {name!r} in {self.path}", hint + " Names are as written in the roster")

    def rotate(self, name: str) -> ClientAccess:
        """A new token for the client (and active again if revoked)."""
        entry = replace(self.get(name), token=new_token(), state="active", rotated=_now(), revoked=None, published=None)
        self.clients[name] = entry
        return entry

    def revoke(self, name: str) -> ClientAccess:
        entry = replace(self.get(name), state="revoked", revoked=_now(), published=None)
        self.clients[name] = entry
        return entry

    def set_published(self, name: str, fingerprint: str | None) -> None:
        self.clients[name] = replace(self.clients[name], published=fingerprint)


def client_urls(entry: ClientAccess, base_url: str | None, root: Path) -> tuple[str, str]:
    """(page, feed) of a client: under `base_url`, else the paths under the output folder."""
    if base_url:
        return f"{base_url}{entry.token}/index.html", f"{base_url}{entry.token}/feed.xml"
    folder = Path(root) / "public" / entry.token
    return str(folder / "index.html"), str(folder / "feed.xml")


def links_csv(access: Access, root: Path, base_url: str | None, published: Callable[[str], bool] | None = None) -> str:
    """client, state, page URL, feed URL: one row per client, for the practitioner to send.
    `published(token)` says whether a client's folder is there (default: a folder under `root`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["client", "state", "page", "feed"])
    is_published = published or (lambda token: (Path(root) / "public" / token).is_dir())
    for entry in access.clients.values():
        published_here = entry.active and is_published(entry.token)
        page, feed = client_urls(entry, base_url, root) if published_here else ("", "")
        writer.writerow([entry.name, entry.state if published_here or not entry.active else "not published yet", page, feed])
    return out.getvalue()
