"""``python -m profiler`` runs the command-line interface."""

from profiler.cli import main

raise SystemExit(main())
