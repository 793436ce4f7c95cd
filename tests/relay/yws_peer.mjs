// A stock Yjs client (npm y-websocket WebsocketProvider over `ws`) for the relay tests.
// Usage: node yws_peer.mjs <serverUrl> <room> <token> <expect-text> <append-text> <wait-for>
//        [<my-name> <wait-for-peer-name>]
// Syncs the room, checks the root Text "body" contains <expect-text>, appends
// <append-text>, announces presence, waits until "body" contains <wait-for>, prints
// one JSON line per step and exits.
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

const [serverUrl, room, token, expectText, appendText, waitFor, myName, waitPeer] =
  process.argv.slice(2);
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

provider.once("sync", () => {
  const before = body.toString();
  say({ event: "synced", body: before, ok: before.includes(expectText) });
  body.insert(body.length, appendText);
  provider.awareness.setLocalStateField("user", { name: myName || "node-peer" });
  const seesPeer = () =>
    !waitPeer ||
    [...provider.awareness.getStates().values()].some((s) => s.user && s.user.name === waitPeer);
  let done = false;
  const check = () => {
    if (!done && body.toString().includes(waitFor) && seesPeer()) {
      done = true;
      say({ event: "final", body: body.toString() });
      setTimeout(() => {
        provider.destroy();
        process.exit(0);
      }, 200);
    }
  };
  body.observe(check);
  provider.awareness.on("change", check);
  check();
});
