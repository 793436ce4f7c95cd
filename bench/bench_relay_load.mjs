// The one load generator of bench/bench_relay.py: raw y-websocket clients over `ws`.
//
// node bench/bench_relay_load.mjs '<json config>'
//   {"rooms": ["ws://…/room0", …], "clients": 10, "rate": 5, "seconds": 60, "drain": 5,
//    "warmup": 0, "stuck": 0}
//   (an entry of "rooms" may be a list of URLs: that room's clients are spread over them)
// "warmup": seconds of the same load before the measured ones (its edits carry no marker,
// so they are neither counted nor timed). "stuck": extra clients in the first room that
// sync, then stop reading their socket (never send, never counted): a slow reader.
//
// Every client keeps its own Y.Doc (yjs 13) and only edits it: each edit appends a
// marker "@client:n:time@" to a Text and sends the Yjs update as a y-sync update.
// Receivers find markers in the raw bytes they get (servers forward the update or
// re-encode it; either way the inserted string is in it) and record the latency of
// the first copy. Prints one JSON object: sent, expected and delivered counts, p50/p99.
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import * as Y from "yjs";

const cfg = JSON.parse(process.argv[2]);
const enc = (parts) => Buffer.concat(parts.map((p) => (typeof p === "number" ? varuint(p) : p)));
function varuint(n) {
  const out = [];
  while (n > 127) {
    out.push(128 | (n & 127));
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const bytes = (b) => enc([b.length, Buffer.from(b)]);
const syncMsg = (step, payload) => enc([0, step, bytes(payload)]);

const MARK = /@(\d+):(\d+):(\d+)@/g;
const clients = [];
const latencies = [];
let sent = 0;
let delivered = 0;
let measuring = false;

const all = [];
function makeClient(url, id, room, stuck = false) {
  return new Promise((resolve, reject) => {
    const doc = new Y.Doc();
    const text = doc.getText("t");
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c = { id, room, ws, doc, text, seq: 0, seen: new Set(), synced: false, stuck };
    all.push(c);
    ws.binaryType = "nodebuffer";
    ws.on("error", reject);
    ws.on("open", () => ws.send(syncMsg(0, Y.encodeStateVector(doc))));
    ws.on("message", (data) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (buf[0] === 0 && buf[1] === 0) {
        // server's step 1: answer with what we have
        ws.send(syncMsg(1, Y.encodeStateAsUpdate(doc)));
      } else if (buf[0] === 0 && buf[1] === 1 && !c.synced) {
        c.synced = true;
        if (c.stuck) ws._socket.pause(); // reads nothing more: the relay must buffer for it
        resolve(c);
      }
      if (!measuring || c.stuck) return;
      const now = performance.now();
      const s = buf.toString("latin1");
      for (const m of s.matchAll(MARK)) {
        const sender = Number(m[1]);
        if (sender === id) continue;
        const key = `${sender}:${m[2]}`;
        if (c.seen.has(key)) continue;
        c.seen.add(key);
        delivered += 1;
        latencies.push(now - Number(m[3]) / 1000);
      }
    });
    doc.on("update", (update, origin) => {
      if (origin === "local" && ws.readyState === WebSocket.OPEN) ws.send(syncMsg(2, update));
    });
  });
}

function edit(c) {
  if (!measuring) {
    doc_transact(c, () => c.text.insert(c.text.length, `#${c.id}:warm-up#`)); // no marker
    return;
  }
  c.seq += 1;
  const t = Math.round(performance.now() * 1000);
  doc_transact(c, () => c.text.insert(c.text.length, `@${c.id}:${c.seq}:${t}@`));
  sent += 1;
}
function doc_transact(c, fn) {
  c.doc.transact(fn, "local");
}

const t0 = performance.now();
let id = 0;
// A room may list several URLs (one room served by several relay processes): its
// clients are spread over them round-robin.
for (const [r, urls] of cfg.rooms.entries()) {
  for (let i = 0; i < cfg.clients; i++) {
    id += 1;
    const url = Array.isArray(urls) ? urls[i % urls.length] : urls;
    clients.push(makeClient(url, id, r));
  }
}
for (let i = 0; i < (cfg.stuck ?? 0); i++) {
  const urls = cfg.rooms[0];
  id += 1;
  clients.push(makeClient(Array.isArray(urls) ? urls[0] : urls, id, 0, true));
}
// Some servers leave clients unsynced when many join at once: give up waiting after
// cfg.syncTimeout seconds and go on with every open client, reporting how many synced.
await Promise.race([
  Promise.all(clients),
  new Promise((r) => setTimeout(r, (cfg.syncTimeout ?? 30) * 1000)),
]);
const connectMs = performance.now() - t0;
const synced = all.filter((c) => c.synced).length;
const ready = all.filter((c) => c.ws.readyState === WebSocket.OPEN && !c.stuck);
const timers = ready.map((c) => {
  const period = 1000 / cfg.rate;
  return setTimeout(() => {
    edit(c);
    c.timer = setInterval(() => edit(c), period);
  }, Math.random() * period);
});
await new Promise((r) => setTimeout(r, (cfg.warmup ?? 0) * 1000));
measuring = true;
process.stdout.write("measuring\n"); // bench_relay.py starts counting the server's CPU here
await new Promise((r) => setTimeout(r, cfg.seconds * 1000));
for (const c of ready) clearInterval(c.timer);
for (const t of timers) clearTimeout(t);
await new Promise((r) => setTimeout(r, cfg.drain * 1000));
latencies.sort((a, b) => a - b);
const q = (p) =>
  latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
    : null;
const expected = sent * (cfg.clients - 1);
process.stdout.write(
  JSON.stringify({
    clients: all.length - (cfg.stuck ?? 0),
    stuck: cfg.stuck ?? 0,
    synced: synced - all.filter((c) => c.stuck && c.synced).length,
    open: ready.length,
    connect_ms: connectMs,
    sent,
    expected,
    delivered,
    delivered_ratio: expected ? delivered / expected : 0,
    throughput_per_s: delivered / cfg.seconds,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    max_ms: latencies.length ? latencies[latencies.length - 1] : null,
  }) + "\n",
);
for (const c of all) c.ws.terminate();
process.exit(0);
