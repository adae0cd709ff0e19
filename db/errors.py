"""The error every stage raises for a problem the user can fix.

Library code raises subclasses of DlcomputeError with a message that names the
input and the fix; only the command line turns them into ``Error: ...`` lines.
Errors stay picklable so they can cross process and Dask boundaries.
"""

from __future__ import annotations


class DlcomputeError(Exception):
    """A problem the user can fix; the message says what and how."""
