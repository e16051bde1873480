"""``python -m kanpde`` runs the command line."""

import sys

from kanpde.cli import main

sys.exit(main())
