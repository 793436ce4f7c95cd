// A stock Yjs client (npm y-websocket WebsocketProvider over `ws`) watching one note.
// Usage: node yws_watch.mjs <serverUrl> <room> <token> <name>
// Joins the room, announces presence as <name>, and prints one JSON line
// {synced, title, body, users} each time the document or the presence changes
// (at most every 100 ms). Exits when stdin closes, or after 5 minutes.
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

const [serverUrl, room, token, name] = process.argv.slice(2);
const doc = new Y.Doc();
const provider = new WebsocketProvider(serverUrl, room, doc, {
  WebSocketPolyfill: WebSocket,
  params: { token },
  disableBc: true,
});
provider.awareness.setLocalStateField("user", { name, color: "#000000" });
let timer = null;
const report = () => {
  if (timer) return;
  timer = setTimeout(() => {
    timer = null;
    const users = [...provider.awareness.getStates().values()]
      .map((s) => s?.user?.name)
      .filter(Boolean)
      .sort();
    const line = {
      synced: provider.synced,
      title: doc.getText("title").toString(),
      body: doc.getText("body").toString(),
      users,
    };
    process.stdout.write(JSON.stringify(line) + "\n");
  }, 100);
};
doc.on("update", report);
provider.awareness.on("change", report);
provider.on("sync", report);
process.stdin.on("end", () => {
  provider.destroy();
  process.exit(0);
});
process.stdin.resume();
setTimeout(() => process.exit(3), 300_000);
