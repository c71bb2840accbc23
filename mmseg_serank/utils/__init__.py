"""Helpers of the command-line tools in tools/ (shared here, never imported between scripts)."""
