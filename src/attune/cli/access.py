"""`attune access list|rotate|revoke`: the clients' private links."""

from __future__ import annotations

from pathlib import Path

import click

from .app import cli


@cli.group()
def access():
    """See, rotate and revoke the clients' private links in a batch's output folder.

    \b
    Examples:
      attune access list deliver/
      attune access rotate deliver/ "Ana"      # new links for Ana; the old ones stop working
      attune access revoke deliver/ "Bo"       # Bo's recordings are unpublished
      attune access rotate s3://bucket/deliver "Ana"   # object storage too
    """


_FOLDER = click.argument("folder", metavar="DEST")
_BASE_URL = click.option("--base-url", help="Show the links under this URL (default: the last batch's, else paths).")
_STORAGE = click.option("--storage-options", metavar="JSON", help="fsspec options for a DEST URL (s3://bucket/prefix), as for `attune batch`.")


def _dest(folder: str) -> Path | str:
    """A batch's output folder (it must exist), or its object-storage URL as given."""
    from ..delivery.store import StoreSpec, is_url

    if is_url(folder) and not StoreSpec(folder).is_local:
        return folder
    path = Path(folder.removeprefix("file://"))
    if not path.is_dir():
        raise click.BadParameter(f"{folder!r} is not a folder", param_hint="DEST")
    return path


def _options(text: str | None) -> dict:
    from .batch import _storage_options

    return _storage_options(text) or {}


@access.command("list")
@_FOLDER
@_BASE_URL
@_STORAGE
def list_(folder, base_url, storage_options):
    """Show each client, its state, its page URL and its feed URL.

    \b
    Example:
      attune access list deliver/ --base-url https://example.org/practice/
    """
    from ..delivery.access_admin import client_links

    for name, state, page, feed in client_links(_dest(folder), base_url, _options(storage_options)):
        click.echo(f"{name}\t{state}\t{page}\t{feed}")


@access.command()
@_FOLDER
@click.argument("client")
@_BASE_URL
@_STORAGE
def rotate(folder, client, base_url, storage_options):
    """Give CLIENT (their exact roster name) a new private link; the old one stops working.

    Their folder moves and is republished, without rendering again. A revoked client is restored.

    \b
    Example:
      attune access rotate deliver/ "Ana"
    """
    from ..delivery.access_admin import rotate_client

    page, feed = rotate_client(_dest(folder), client, base_url, _options(storage_options))
    click.echo(f"rotated: {client}\n  page {page}\n  feed {feed}")


@access.command()
@_FOLDER
@click.argument("client")
@_STORAGE
def revoke(folder, client, storage_options):
    """Unpublish CLIENT (their exact roster name); later batches do not publish them again.

    \b
    Example:
      attune access revoke deliver/ "Bo"
    """
    from ..delivery.access_admin import revoke_client

    revoke_client(_dest(folder), client, _options(storage_options))
    click.echo(f"revoked: {client} (rotate to restore)")
