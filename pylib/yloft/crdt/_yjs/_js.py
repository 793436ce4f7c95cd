"""The JavaScript side of the Yjs engine: the `yjs` module and a few JS helpers.

Only this module touches Pyodide's FFI directly for setup. The helpers live in
``yjs_helpers.js`` and ``yjs_text.js`` (next to this file, shipped in the wheel, checked
by tsc), whose exports the host registers together as the JS module ``yloft_js``; they
are plain JS functions made once at import (no proxies are created per call):

- ``begin(doc, origin)`` / ``end(doc)`` open and close one Yjs transaction across
  many Python calls (Yjs only offers the callback form ``transact(doc, fn)``);
- ``kind(value)`` classifies a value read from Yjs with one call;
- ``keys(ymap)`` lists a map's live keys; ``updateError`` vets an update first;
- ``text*`` translate pycrdt's UTF-8 byte offsets to Yjs's UTF-16 ones.
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]
import yjs  # type: ignore[import-not-found]  # JS module registered by the host
import yloft_js  # type: ignore[import-not-found]  # yjs_helpers.js + yjs_text.js, by the host

Y: Any = yjs
js_object: Any = js.Object.fromEntries

# Kinds returned by ``kind`` (see yjs_helpers.js).
K_NONE, K_NUMBER, K_BIGINT, K_STRING, K_BOOL = 0, 1, 2, 3, 4
K_BYTES, K_ARRAY, K_OBJECT = 5, 6, 7
K_YMAP, K_YARRAY, K_YTEXT, K_YDOC, K_OTHER = 10, 11, 12, 13, 14

_helpers: Any = yloft_js.helpers(Y)
_text: Any = yloft_js.textHelpers(Y)
begin: Any = _helpers.begin
end: Any = _helpers.end
kind: Any = _helpers.kind
keys: Any = _helpers.keys
root_names: Any = _helpers.rootNames
root: Any = _helpers.root
flat_map: Any = _helpers.flatMap
flat_delete_set: Any = _helpers.flatDeleteSet
Y_list: Any = _helpers.list1
at: Any = _helpers.at
text_length: Any = _text.textLength
text_insert: Any = _text.textInsert
text_delete: Any = _text.textDelete
text_delta: Any = _text.textDelta
text_format: Any = _text.textFormat
track_texts: Any = _text.trackTexts
update_error: Any = _helpers.updateError
apply_checked: Any = _helpers.applyChecked
shadow_state: Any = _helpers.shadowState
map_set: Any = _helpers.mapSet
map_get: Any = _helpers.mapGet
map_has: Any = _helpers.mapHas
map_delete: Any = _helpers.mapDelete
map_size: Any = _helpers.mapSize
map_set_many: Any = _helpers.mapSetMany
array_insert: Any = _helpers.arrayInsert
array_delete: Any = _helpers.arrayDelete
array_length: Any = _helpers.arrayLength
array_items: Any = _helpers.arrayItems
text_string: Any = _helpers.textString
to_json: Any = _helpers.toJSON
