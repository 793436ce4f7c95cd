// The shopping list's page: a React app on yloft's hooks. The list is a live query (it
// changes when any tab or device changes the items), ticks and new items go to the
// Python (shopping_app.py) with useCall, an item's name is edited in its document
// (useDoc), and the status line is useStatus.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { connect, showErrorPanel } from "yloft-runtime/yloft.js";
import { DatabaseProvider, useCall, useDoc, useQuery, useStatus } from "./yloft-react.js";

function App() {
  const items = useQuery("SELECT id, name, bought FROM items ORDER BY created_at, id", []);
  const { call, error } = useCall();
  const [editing, setEditing] = useState(null);
  const [name, setName] = useState("");
  useEffect(() => {
    if (!items.loading) document.documentElement.dataset.yloft = "ready";
  }, [items.loading]);
  const add = (event) => {
    event.preventDefault();
    setName(""); // at once: the next item can be typed while this one is stored
    call("add_item", name).catch(() => setName((typed) => typed || name)); // error: below
  };
  return (
    <>
      <form onSubmit={add}>
        <input aria-label="Item" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      {error && <p role="alert">{error.message}</p>}
      <ul aria-label="Shopping list">
        {items.rows.map((row) => (
          <Item key={row.id} row={row} call={call} rename={() => setEditing(row.id)} />
        ))}
      </ul>
      {editing && <Rename key={editing} id={editing} close={() => setEditing(null)} />}
      <Status />
    </>
  );
}

function Item({ row, call, rename }) {
  // What the person just ticked, shown until the live query brings the stored value back.
  const [ticked, setTicked] = useState(null);
  useEffect(() => setTicked(null), [row.bought]);
  const tick = (event) => {
    setTicked(event.target.checked);
    call("set_bought", row.id, event.target.checked).catch(() => setTicked(null));
  };
  return (
    <li>
      <label>
        <input type="checkbox" checked={ticked ?? Boolean(row.bought)} onChange={tick} />
        {row.name}
      </label>
      <button type="button" aria-label={`Rename ${row.name}`} onClick={rename}>
        ✎
      </button>
    </li>
  );
}

/** An item's document, edited in the page: the list (a live query) follows each key. */
function Rename({ id, close }) {
  const { doc, synced, error } = useDoc("items", id);
  if (error) return <p role="alert">{error.message}</p>;
  if (!doc || !synced) return <p>Opening…</p>;
  const item = doc.getMap("item");
  return (
    <section aria-label="Rename item">
      <label>
        Name
        <input value={item.get("name") ?? ""} onChange={(e) => item.set("name", e.target.value)} />
      </label>
      <button type="button" onClick={close}>Done</button>
    </section>
  );
}

function Status() {
  const status = useStatus();
  const unsaved = status.unsaved ? ` · ${status.unsaved} unsaved` : "";
  return <p aria-live="polite">{`storage: ${status.storage}${unsaved}`}</p>;
}

async function main() {
  const db = await connect({ name: "react-shopping", app: "shopping_app" });
  window.db = db;
  document.getElementById("loading")?.remove();
  createRoot(document.getElementById("app")).render(
    <DatabaseProvider db={db}>
      <App />
    </DatabaseProvider>,
  );
}

main().catch(showErrorPanel);
