"""Rosters: one YAML file naming a practitioner, their clients and each client's tracks.

```yaml
practitioner: Dr. Rivera
title: Weekly practice
language: en
cover: cover.png
category: Health & Fitness > Mental Health   # Apple's category for the feeds (this is the default)
order: course        # a course (itunes:type serial; the default for a client with several tracks) or episodic
defaults: {length: 10m, voice: en-us, background: drone}
clients:
  - name: Ana
    vars: {name: Ana}
    tracks:
      - script: scripts/loving-kindness.yaml
        length: 15m
```

Parsed with PyYAML's safe loader into nodes, so every error names the roster line. Paths are
relative to the roster file; a script may also be a built-in practice's name. Track settings are
read by the one settings reader (`attune.script.settings_reader`: a script's rules, ranges and
messages) into `TrackSettings`, and merged in the one way: track over client over `defaults:`. A script that does not exist is not a roster error: the batch
reports it for that track and renders the others.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import AttuneError, ScriptError, combine
from ..library import resolve_script
from ..media.cover import check_cover
from ..script.settings_reader import ROSTER_SETTINGS, SettingsReader
from ..settings import TrackSettings
from ..slugs import slugify
from .categories import parse_category

#: Track settings allowed under `defaults:` and in each track (read by the one settings reader, `attune.script.settings_reader`).
SETTING_KEYS = ROSTER_SETTINGS
ROSTER_KEYS = ("practitioner", "title", "description", "language", "cover", "contact", "message", "category", "order", "defaults", "clients")
#: `order:` values: a course (listened to in order) or episodes in any order.
ORDERS = ("course", "episodic")
CLIENT_KEYS = ("name", "vars", "message", "tracks")
TRACK_KEYS = ("script", "title", *SETTING_KEYS)

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+")


@dataclass(frozen=True)
class TrackSpec:
    """One track to render for one client, with the roster defaults and the client's vars merged in."""

    #: The script file, absolute (it may not exist: the batch reports that per track).
    script: Path
    #: The script path as written in the roster, for messages and the manifest.
    script_text: str
    line: int
    #: Position within the client's tracks, from 1, and the client's track count.
    number: int
    total: int
    #: The output file name without suffix, e.g. `01-loving-kindness`.
    file_stem: str
    #: The roster's title for the track (None: the script's own title).
    title: str | None = None
    #: The track's settings over the client's and the roster's defaults (the script's come under them).
    settings: TrackSettings = field(default_factory=TrackSettings)


@dataclass(frozen=True)
class Client:
    """A person receiving tracks, named exactly as in the roster (their access is keyed by it)."""

    name: str
    slug: str
    vars: Mapping[str, str]
    tracks: tuple[TrackSpec, ...]
    line: int
    #: A welcome note on the client's page (theirs, else the roster's).
    message: str | None = None


@dataclass(frozen=True)
class Roster:
    """A parsed roster file."""

    path: Path
    practitioner: str
    title: str
    description: str | None
    language: str
    cover: Path | None
    clients: tuple[Client, ...]
    #: The practitioner's email: shown on the pages, and the feeds' owner (`podcast:locked`).
    contact: str | None = None
    message: str | None = None
    #: Apple's category (and subcategory) for the feeds; None: the default (`attune.delivery.feed`).
    category: tuple[str, ...] | None = None
    #: "course" or "episodic"; None: a course for a client with several tracks.
    order: str | None = None
    #: The roster line of `cover:`, for warnings about the image.
    cover_line: int | None = None

    def serial(self, client: Client) -> bool:
        """The client's feed is a course (`itunes:type serial`): as the roster says, else when they have several tracks."""
        return self.order == "course" if self.order is not None else len(client.tracks) > 1


def track_stem(number: int, total: int, name: str) -> str:
    """`01-loving-kindness`: the track number (two digits or more) and the slug of `name`."""
    width = max(2, len(str(total)))
    return f"{number:0{width}d}-{slugify(name, fallback='track')}"


def missing_script(roster: Roster, spec: TrackSpec) -> ScriptError | None:
    """The track's script is not a file: the one message for it (the batch fails that track alone, and
    `attune check` reports it); None when it is there."""
    if spec.script.is_file():
        return None
    what = "is not a file" if spec.script.exists() else "does not exist"
    return ScriptError(f"the script {spec.script_text} {what}", "check the path: it is relative to the roster file", path=str(roster.path), line=spec.line)


def load_roster(path: str | Path) -> Roster:
    """Read and parse a roster file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError("the roster file does not exist", "check the path", path=str(path)) from None
    except IsADirectoryError:
        raise ScriptError("the roster path is a folder", "give the roster's YAML file", path=str(path)) from None
    except UnicodeDecodeError:
        raise ScriptError("the roster is not UTF-8 text", "save it as UTF-8", path=str(path)) from None
    except OSError as exc:
        raise ScriptError(f"cannot read the roster: {exc.strerror}", "check its permissions", path=str(path)) from None
    return parse_roster_text(text, path=path)


def parse_roster_text(text: str, *, path: str | Path = "roster.yaml") -> Roster:
    """Parse roster YAML; relative paths are resolved against the folder of `path`."""
    return _RosterParser(Path(path)).parse(text)


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class _RosterParser:
    def __init__(self, path: Path):
        self.path = path
        self.base_dir = path.parent.resolve()
        self.loader = yaml.SafeLoader("")
        #: The one settings reader (a script's rules and messages); its first error stops the track.
        self.reader = SettingsReader(self.base_dir, str(path))
        #: Problems found so far in clients and tracks (reading goes on to the next one).
        self.problems: list[AttuneError] = []
        #: The vars that differ from client to client (theirs, and their `name`), of the client being read.
        self.per_client_vars: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------

    def error(self, message: str, hint: str | None, node: yaml.Node | None) -> ScriptError:
        line = node.start_mark.line + 1 if node is not None else 1
        return ScriptError(message, hint, path=str(self.path), line=line)

    def value(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            raise ScriptError(f"invalid YAML: {exc.problem}", "check the indentation and quoting", path=str(self.path), line=mark.line + 1) from None
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp such as 2024-13-45
            raise self.error(f"invalid YAML value: {exc}", "put the value in quotes", node) from None

    def mapping(self, node: yaml.Node, allowed: tuple[str, ...], where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                f"{where} must be a mapping of keys, not {_describe(self.value(node))}", f"write it as key: value lines ({', '.join(allowed)})", node
            )
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.error(f"{where} has a key that is not text", f"use one of: {', '.join(allowed)}", key_node)
            if key in entries:
                raise self.error(f"duplicate key '{key}' in {where}", "remove one of them", key_node)
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(allowed)}"
                raise self.error(f"unknown key '{key}' in {where}", hint, key_node)
            entries[key] = (key_node, value_node)
        return entries

    def text(self, node: yaml.Node, key: str) -> str:
        value = self.value(node)
        if not isinstance(value, str):
            hint = "put it in quotes" if isinstance(value, (bool, int, float)) else "give one line of text"
            raise self.error(f"'{key}' must be text, not {_describe(value)}", hint, node)
        value = value.strip()
        if not value:
            raise self.error(f"'{key}' is empty", "give a value or remove the line", node)
        return value

    def resolve(self, text: str) -> Path:
        return (self.base_dir / Path(text).expanduser()).resolve()

    # -- sections --------------------------------------------------------------------------

    def parse(self, text: str) -> Roster:
        self.loader = yaml.SafeLoader(text)
        try:
            try:
                root = self.loader.get_single_node()
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = mark.line + 1 if mark is not None else 1
                problem = exc.problem or exc.context or "cannot be parsed"
                raise ScriptError(f"invalid YAML: {problem}", "check the indentation and quoting", path=str(self.path), line=line) from None
            except yaml.YAMLError as exc:
                raise ScriptError(f"invalid YAML: {exc}", "check the indentation and quoting", path=str(self.path), line=1) from None
            if root is None:
                raise ScriptError("the roster is empty", "add practitioner:, title: and clients:", path=str(self.path), line=1)
            return self.roster(root)
        finally:
            self.loader.dispose()

    def roster(self, root: yaml.Node) -> Roster:
        entries = self.mapping(root, ROSTER_KEYS, "the roster")
        if "practitioner" not in entries:
            raise self.error("missing 'practitioner'", "add `practitioner: Your Name` at the top", root)
        if "clients" not in entries:
            raise self.error("missing 'clients'", "add a clients: list with a name and tracks for each client", root)
        practitioner = self.text(entries["practitioner"][1], "practitioner")
        title = self.text(entries["title"][1], "title") if "title" in entries else f"Practice with {practitioner}"
        description = self.text(entries["description"][1], "description") if "description" in entries else None
        language = "en"
        if "language" in entries:
            node = entries["language"][1]
            language = self.text(node, "language")
            if not _LANGUAGE.fullmatch(language):
                raise self.error(f"'language' {language!r} is not a language code", "write a code such as en, de or en-GB", node)
        cover = None
        if "cover" in entries:
            node = entries["cover"][1]
            cover = self.resolve(self.text(node, "cover"))
            try:
                check_cover(cover)
            except AttuneError as exc:
                raise self.error(f"{exc.message}: {cover}", exc.hint, node) from None
        category = order = None
        if "category" in entries:
            node = entries["category"][1]
            text = self.text(node, "category")
            try:
                category = parse_category(text)
            except ValueError as exc:
                raise self.error(f"'category' {text!r} is not one of Apple's podcast categories", str(exc), node) from None
        if "order" in entries:
            node = entries["order"][1]
            order = self.text(node, "order")
            if order not in ORDERS:
                raise self.error(f"'order' must be course or episodic, not {order!r}", "write order: course (in roster order) or order: episodic", node)
        contact = None
        if "contact" in entries:
            node = entries["contact"][1]
            contact = self.text(node, "contact")
            if not _EMAIL.fullmatch(contact):
                raise self.error(f"'contact' {contact!r} is not an email address", "write e.g. contact: rivera@example.org", node)
        defaults = TrackSettings()
        if "defaults" in entries:
            defaults = self.settings(self.mapping(entries["defaults"][1], SETTING_KEYS, "defaults"))
        clients_node = entries["clients"][1]
        if not isinstance(clients_node, yaml.SequenceNode):
            raise self.error(f"'clients' must be a list, not {_describe(self.value(clients_node))}", "start each client with `- name: …`", clients_node)
        if not clients_node.value:
            raise self.error("'clients' is empty", "add at least one client with a name and tracks", clients_node)
        clients: list[Client] = []
        seen: dict[str, Client] = {}
        message = self.text(entries["message"][1], "message") if "message" in entries else None
        for client_node in clients_node.value:
            try:
                client = self.client(client_node, defaults, message)
            except ScriptError as exc:  # every client's problems are reported, not just the first
                self.problems.append(exc)
                continue
            if client.name in seen:
                other = seen[client.name]
                raise self.error(
                    f"client '{client.name}' is named twice, here and on line {other.line}",
                    "give each client a name of their own: the name is how their private links are kept",
                    client_node,
                )
            seen[client.name] = client
            clients.append(client)
        if self.problems:
            raise combine(self.problems, str(self.path))
        cover_line = entries["cover"][1].start_mark.line + 1 if "cover" in entries else None
        return Roster(self.path, practitioner, title, description, language, cover, tuple(clients), contact, message, category, order, cover_line)

    def client(self, node: yaml.Node, defaults: TrackSettings, message: str | None = None) -> Client:
        entries = self.mapping(node, CLIENT_KEYS, "a client")
        if "name" not in entries:
            raise self.error("a client has no 'name'", "add `name: …` to the client", node)
        name = self.text(entries["name"][1], "name")
        client_vars = self.reader.vars(entries["vars"][1]) if "vars" in entries else {}
        if "tracks" not in entries:
            raise self.error(f"client '{name}' has no tracks", "add tracks: with at least one `- script: …`", node)
        tracks_node = entries["tracks"][1]
        if not isinstance(tracks_node, yaml.SequenceNode):
            raise self.error(f"'tracks' must be a list, not {_describe(self.value(tracks_node))}", "start each track with `- script: …`", tracks_node)
        if not tracks_node.value:
            raise self.error(f"client '{name}' has no tracks", "add at least one `- script: …`", tracks_node)
        total = len(tracks_node.value)
        # The client's name, then the client's vars, over the roster-wide vars.
        client_layer = TrackSettings(vars={"name": name, **client_vars}).over(defaults)
        self.per_client_vars = {"name": name, **client_vars}
        tracks = []
        failed = False
        for number, track_node in enumerate(tracks_node.value, start=1):
            try:
                tracks.append(self.track(track_node, number, total, client_layer))
            except ScriptError as exc:  # `ROSTER:LINE: client / track N: what — fix`
                exc.message = f"{name} / track {number}: {exc.message}"
                self.problems.append(exc)
                failed = True
        if failed:
            raise self.problems.pop()
        own_message = self.text(entries["message"][1], "message") if "message" in entries else None
        return Client(name, slugify(name), client_vars, tuple(tracks), node.start_mark.line + 1, own_message or message)

    def track(self, node: yaml.Node, number: int, total: int, client_layer: TrackSettings) -> TrackSpec:
        if isinstance(node, yaml.ScalarNode) and isinstance(self.value(node), str):
            raise self.error("a track must be a mapping with a 'script' key", "write `- script: path/to/script.yaml`", node)
        entries = self.mapping(node, TRACK_KEYS, "a track")
        if "script" not in entries:
            raise self.error("a track has no 'script'", "add `script: path/to/script.yaml`", node)
        script_text = self.text(entries["script"][1], "script")
        title = self.text(entries["title"][1], "title") if "title" in entries else None
        own = self.settings({key: value for key, value in entries.items() if key in SETTING_KEYS})
        script = self.resolve_script(script_text)
        if own.recording is None and own.engine is None:
            self.check_shared_take(script, own.over(client_layer), {**self.per_client_vars, **own.vars}, node)
        stem = track_stem(number, total, title or Path(script_text).stem)
        return TrackSpec(
            script=script,
            script_text=script_text,
            line=node.start_mark.line + 1,
            number=number,
            total=total,
            file_stem=stem,
            title=title,
            settings=own.over(client_layer),
        )

    def check_shared_take(self, script: Path, settings: TrackSettings, client_vars: Mapping[str, str], node: yaml.Node) -> None:
        """A take shared by every client (from `defaults:` or the script) cannot say what changes per
        client: a placeholder the client's vars fill (their `{name}` at least) is an error here."""
        from ..script import load_script

        try:
            loaded = load_script(script, dict(settings.vars))
            source = script.read_text("utf-8")
        except (AttuneError, OSError):
            return  # the batch reports the script's own problems, track by track
        take = settings.recording or loaded.settings.recording
        if take is None or settings.engine is not None:
            return
        used = [name for name in client_vars if "{" + name + "}" in source]
        if used:
            names = ", ".join("{" + n + "}" for n in used)
            raise self.error(
                f"{names} changes from client to client, and one take ({take.value}) cannot say it",
                "give this client a take of their own (recording: in the track), or take the placeholder out of the script",
                node,
            )

    def resolve_script(self, text: str) -> Path:
        """A script relative to the roster's folder, else a built-in practice of that name."""
        local = self.resolve(text)
        if local.exists():
            return local
        builtin = resolve_script(text)
        return builtin if builtin.exists() else local

    def settings(self, entries: dict[str, tuple[yaml.Node, yaml.Node]]) -> TrackSettings:
        """Track settings from `defaults:` or a track, each value checked where it is written, by the
        rules a script's settings follow."""
        return TrackSettings(**self.reader.read(entries, SETTING_KEYS))
