"""The command line (``kanpde``): the top layer, one module per subcommand."""

from kanpde.cli.main import build_parser, main

__all__ = ["main", "build_parser"]
