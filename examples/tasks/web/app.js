// The kanban board's page, on yloft's Preact bindings (no build step): components render
// the board that tasks_app.board() returns, live, and forward what the person does (add,
// move) to the Python. htm sets text, never HTML.
import { connect, showErrorPanel } from "./yloft.js";
import {
  DatabaseProvider,
  html,
  render,
  useCall,
  useEffect,
  useQuery,
  useState,
} from "./bindings/preact.js";

/** @typedef {(name: string, ...args: any[]) => Promise<any>} Call */
const LANES = ["todo", "doing", "done"];
// One row that changes with any board's order or any card: the board is fetched again.
const CHANGES =
  "SELECT (SELECT max(updated_at) FROM boards) AS b, (SELECT max(updated_at) FROM cards) AS c, (SELECT count(*) FROM cards) AS n";
// The labels in use, straight from SQL (json_each over each card's labels list).
const LABELS =
  "SELECT j.value AS label, count(*) AS n FROM cards, json_each(cards.labels) AS j GROUP BY j.value ORDER BY n DESC, label";

/** @param {{boardId: string}} props */
function Board({ boardId }) {
  const changes = useQuery(CHANGES).rows;
  const labels = useQuery(LABELS).rows;
  const { call, error } = useCall();
  const [board, setBoard] = useState(/** @type {any} */ (null));
  useEffect(() => {
    call("board", boardId).then(setBoard, () => {});
  }, [changes]);
  useEffect(() => {
    if (board) document.documentElement.dataset.yloft = "ready";
  }, [board !== null]);
  if (!board) return null;
  /** @type {(id: string, lane: string, index: number) => Promise<void>} */
  const move = (id, lane, index) => call("move_card", boardId, id, lane, index).catch(() => {});
  return html`<h1>${board.title}</h1>
    <${AddCard} boardId=${boardId} call=${call} />
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    <div class="lanes">
      ${LANES.map(
        (lane, l) => html`<section key=${lane}>
          <h2>${lane}</h2>
          <ul aria-label=${lane}>
            ${board.lanes[lane].map(
              (/** @type {any} */ card, /** @type {number} */ i, /** @type {any[]} */ all) =>
                html`<${Card} key=${card.id} card=${card} l=${l} i=${i} last=${all.length - 1} move=${move} />`,
            )}
          </ul>
        </section>`,
      )}
    </div>
    <p class="muted">
      Labels: <span aria-label="Labels in use">${labels.map((r) => `${r.label} (${r.n})`).join(", ") || "none"}</span>
    </p>`;
}

/** @param {{card: any, l: number, i: number, last: number, move: (id: string, lane: string, index: number) => Promise<void>}} props */
function Card({ card, l, i, last, move }) {
  const labels = JSON.parse(card.labels ?? "[]").map((/** @type {string} */ t) => `#${t}`);
  const meta = [labels.join(" "), `${card.points} pts`, card.due ? `due ${card.due_words}` : ""];
  /** @type {(text: string, where: string, lane: string, index: number, enabled: boolean) => any} */
  const tool = (text, where, lane, index, enabled) =>
    html`<button type="button" aria-label=${`Move ${card.title} ${where}`} disabled=${!enabled}
      onClick=${() => move(card.id, lane, index)}>${text}</button>`;
  return html`<li>
    <strong>${card.title}</strong>
    <small>${meta.filter(Boolean).join(" · ")}</small>
    <span>
      ${tool("←", "left", LANES[l - 1], 0, l > 0)}${tool("↑", "up", LANES[l], i - 1, i > 0)}
      ${tool("↓", "down", LANES[l], i + 1, i < last)}${tool("→", "right", LANES[l + 1], 0, l < 2)}
    </span>
  </li>`;
}

/** @param {{boardId: string, call: Call}} props */
function AddCard({ boardId, call }) {
  const add = async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const field = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
    const labels = field("labels")
      .value.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const [title, points, due] = [
      field("title").value,
      Number(field("points").value),
      field("due").value,
    ];
    await call("add_card", boardId, title, "todo", labels, points, due || null).then(
      () => {
        field("title").value = field("labels").value = "";
      },
      () => {},
    ); // the error is useCall's, shown above the lanes
  };
  return html`<form onSubmit=${add}>
    <input name="title" aria-label="Card title" placeholder="New card" autocomplete="off" />
    <input name="labels" aria-label="Labels" placeholder="labels, comma separated" />
    <input name="points" type="number" min="0" max="100" defaultValue="0" aria-label="Points" />
    <input name="due" type="date" aria-label="Due date" />
    <button type="submit">Add card</button>
  </form>`;
}

async function main() {
  const db = await connect({
    name: "tasks",
    app: "tasks_app",
    onProgress: (loaded, total) =>
      Object.assign(document.getElementById("progress") ?? {}, { value: loaded, max: total }),
  });
  /** @type {any} */ (window).db = db;
  const boardId = await db.call("open_board", "My board");
  document.getElementById("loading")?.remove();
  render(
    html`<${DatabaseProvider} db=${db}><${Board} boardId=${boardId} /><//>`,
    document.getElementById("app") ?? document.body,
  );
}

main().catch(showErrorPanel);
