// A stock Yjs client (npm y-websocket WebsocketProvider over `ws`) for the access tests.
// Usage: node yws_auth_peer.mjs <serverUrl> <room> <token> <append-text|"">
// Prints one JSON line per event: {"event":"synced","body":…} once synced, then
// {"event":"body","body":…} on every change, {"event":"close","code":N} when the relay
// closes the socket (the script then exits: y-websocket would reconnect forever).
// If <append-text> is given it is appended to the root Text "body" right after sync.
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

const [serverUrl, room, token, appendText] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const doc = new Y.Doc();
const provider = new WebsocketProvider(serverUrl, room, doc, {
  WebSocketPolyfill: WebSocket,
  params: { token },
  disableBc: true,
});
const body = doc.getText("body");
setTimeout(() => {
  say({ event: "timeout", body: body.toString() });
  process.exit(2);
}, 60_000);

provider.on("connection-close", (event) => {
  say({ event: "close", code: event ? event.code : null, body: body.toString() });
  provider.destroy();
  process.exit(0);
});
provider.once("sync", () => {
  say({ event: "synced", body: body.toString() });
  body.observe(() => say({ event: "body", body: body.toString() }));
  if (appendText) body.insert(body.length, appendText);
});
