"""Command-line verbs, one module each. Heavy imports stay inside the command functions."""
