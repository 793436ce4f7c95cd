// Baseline for bench/bench_typing.py: the plain Yjs stack a yloft user would otherwise
// pick — a CodeMirror 6 editor bound with y-codemirror.next to a Y.Text, kept in
// y-indexeddb and shared between tabs over a BroadcastChannel (?mode=tabs), or synced
// through a y-websocket provider (?mode=ws&url=ws://…&room=…). Bundled by esbuild.
import * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";
import { WebsocketProvider } from "y-websocket";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { defaultKeymap } from "@codemirror/commands";
import { yCollab } from "y-codemirror.next";
import { Awareness } from "y-protocols/awareness";

const params = new URLSearchParams(location.search);
const doc = new Y.Doc();
const ytext = doc.getText("body");
let awareness = new Awareness(doc);
let ready;
if (params.get("mode") === "ws") {
  const provider = new WebsocketProvider(params.get("url"), params.get("room"), doc, {
    disableBc: true,
  });
  awareness = provider.awareness;
  ready = new Promise((resolve) => provider.once("sync", resolve));
} else {
  const persistence = new IndexeddbPersistence("bench-typing", doc);
  const channel = new BroadcastChannel("bench-typing");
  const REMOTE = "remote";
  channel.onmessage = (e) => Y.applyUpdate(doc, new Uint8Array(e.data), REMOTE);
  doc.on("update", (update, origin) => {
    if (origin !== REMOTE) channel.postMessage(update);
  });
  ready = persistence.whenSynced;
}
const view = new EditorView({
  parent: document.querySelector("#body"),
  state: EditorState.create({
    doc: ytext.toString(),
    extensions: [
      keymap.of(defaultKeymap),
      yCollab(ytext, awareness),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-label": "Body" }),
    ],
  }),
});
window.typing = { view, ytext, ready: ready.then(() => true) };
document.documentElement.dataset.ready = "1";
