"""The exception tree of yloft.

Everything yloft raises on purpose derives from :class:`YloftError`, so an app can
catch one type. Each message says what went wrong *and what to do about it*.

::

    YloftError
"""

from __future__ import annotations


class YloftError(Exception):
    """Root of every error yloft raises on purpose."""
