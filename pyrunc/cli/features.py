"""``pyrunc features``: print the features document as runc does."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from pyrunc.features import features

if TYPE_CHECKING:
    from pyrunc.cli import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add nothing: ``features`` takes no flags."""


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the features document, indented by four spaces.

    Raises SyscallError if the kernel's capabilities cannot be read.
    """
    print(json.dumps(features(), indent=4))
    return 0
