"""Run the pyrunc command line: ``python -m pyrunc``."""

from pyrunc.cli import main

raise SystemExit(main())
