"""Why an inference run stops, in one line for the user."""

__all__ = ['InferenceError', 'OutputWriteError']


class InferenceError(Exception):
    """A run that cannot start or go on (bad input, unusable model file)."""


class OutputWriteError(OSError):
    """An output file could not be written (named in the message)."""
