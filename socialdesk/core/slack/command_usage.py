"""The signal every ``/desk`` subcommand raises for input it cannot read."""

from __future__ import annotations


class Usage(Exception):
    """The input could not be read: answer with the subcommand's usage."""
