"""Statistics of the fairness audit (placeholder; public names are collected at the end)."""
