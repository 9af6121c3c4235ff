"""Errors a user can act on.

Each one carries a message that names what is wrong and what to do, so front ends
print it as it is (the CLI exits with status 2, the GUI shows a dialog) instead of a
traceback.
"""


class HpstudioError(Exception):
    """Base of every error caused by the user's input rather than by a bug."""


class SpecError(HpstudioError):
    """The study spec is malformed or names something that does not exist."""


class DataError(HpstudioError):
    """The dataset cannot be loaded or does not fit the spec."""


class StoreError(HpstudioError):
    """The history database cannot be opened or written."""


class StudyNotFound(StoreError):
    """No study with the given id or name exists in the history."""
