"""The `tailor` command line (see `tailor --help`); the console script points at `app`."""

from tailor.cli.commands import app

__all__ = ["app"]
