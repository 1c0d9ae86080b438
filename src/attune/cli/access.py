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
    """


_FOLDER = click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
_BASE_URL = click.option("--base-url", help="Show the links under this URL (default: the last batch's, else paths).")


@access.command("list")
@_FOLDER
@_BASE_URL
def list_(folder, base_url):
    """Show each client, its state, its page URL and its feed URL.

    \b
    Example:
      attune access list deliver/ --base-url https://example.org/practice/
    """
    from ..delivery.access_admin import client_links

    for name, state, page, feed in client_links(folder, base_url):
        click.echo(f"{name}\t{state}\t{page}\t{feed}")


@access.command()
@_FOLDER
@click.argument("client")
@_BASE_URL
def rotate(folder, client, base_url):
    """Give CLIENT (their exact roster name) a new private link; the old one stops working.

    Their folder moves and is republished, without rendering again. A revoked client is restored.

    \b
    Example:
      attune access rotate deliver/ "Ana"
    """
    from ..delivery.access_admin import rotate_client

    page, feed = rotate_client(folder, client, base_url)
    click.echo(f"rotated: {client}\n  page {page}\n  feed {feed}")


@access.command()
@_FOLDER
@click.argument("client")
def revoke(folder, client):
    """Unpublish CLIENT (their exact roster name); later batches do not publish them again.

    \b
    Example:
      attune access revoke deliver/ "Bo"
    """
    from ..delivery.access_admin import revoke_client

    revoke_client(folder, client)
    click.echo(f"revoked: {client} (rotate to restore)")
