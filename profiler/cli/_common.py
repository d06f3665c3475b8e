"""Exit codes shared by the commands."""

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
