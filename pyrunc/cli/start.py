"""`pyrunc start`: let a created container run its process."""

from __future__ import annotations

import argparse

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.state import Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add start's arguments."""
    add_container_id(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Start the container."""
    container.start(Store(ctx.root), args.container_id)
    return 0
