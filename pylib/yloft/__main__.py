"""``python -m yloft``: the same as the ``yloft`` command (see :mod:`yloft.cli`)."""

from .cli import main

main()
