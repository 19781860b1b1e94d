"""``hiddenrate examples``: the bundled data sets and where they come from."""

from __future__ import annotations

import json

import click

from hiddenrate.cli.common import handle_errors
from hiddenrate.data.examples import EXAMPLES


@click.command("examples")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def examples_command(fmt: str) -> None:
    """List the bundled example data sets with their sources and published results.

    \b
    Example:
      hiddenrate examples
      hiddenrate lists --example western-us
    """
    if fmt == "json":
        click.echo(json.dumps([{**e.__dict__, "path": str(e.path())} for e in EXAMPLES.values()], indent=2))
        return
    for example in EXAMPLES.values():
        click.echo(f"{example.name}  (hiddenrate {example.command} --example {example.name})")
        click.echo(f"  {example.title}")
        click.echo(f"  source: {example.source}")
        click.echo(f"  published: {example.published}")
        click.echo(f"  status: {example.status}")
        click.echo("")
