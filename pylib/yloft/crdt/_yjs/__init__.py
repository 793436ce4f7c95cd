"""A pycrdt-compatible CRDT engine over the JS Yjs library, for Pyodide.

Same names, signatures, return types and errors as pycrdt (see docs/crdt.md for the
few deviations). Needs the JS module ``yjs`` registered in Pyodide
(``pyodide.registerJsModule("yjs", Y)``).
"""

from __future__ import annotations

from ._array import Array as Array
from ._array import ArrayEvent as ArrayEvent
from ._base import BaseEvent as BaseEvent
from ._base import BaseType as BaseType
from ._base import Subscription as Subscription
from ._doc import Doc as Doc
from ._doc import TransactionEvent as TransactionEvent
from ._map import Map as Map
from ._map import MapEvent as MapEvent
from ._text import Text as Text
from ._text import TextEvent as TextEvent
from ._transaction import ReadTransaction as ReadTransaction
from ._transaction import Transaction as Transaction
from ._update import get_state as get_state
from ._update import get_update as get_update
from ._update import merge_updates as merge_updates
