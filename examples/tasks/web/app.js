// The kanban board's page: renders the board that tasks_app.board() returns and forwards
// what the person does (add, move) to the Python with db.call(). Text is set with
// textContent, never as HTML.
import { connect, showErrorPanel } from "./yloft.js";

/** @param {string} id */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
const LANES = ["todo", "doing", "done"];

/**
 * @param {string} text @param {string} label @param {() => void} onClick
 * @param {boolean} enabled
 */
function button(text, label, onClick, enabled) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.disabled = !enabled;
  b.addEventListener("click", onClick);
  return b;
}

/** @param {any} db @param {string} boardId @param {any} board */
function renderBoard(db, boardId, board) {
  $("board-title").textContent = board.title;
  const move = (
    /** @type {string} */ id,
    /** @type {string} */ lane,
    /** @type {number} */ index,
  ) => db.call("move_card", boardId, id, lane, index).catch(showFormError);
  $("lanes").replaceChildren(
    ...LANES.map((lane, l) => {
      const section = document.createElement("section");
      const title = document.createElement("h2");
      title.textContent = lane;
      const list = document.createElement("ul");
      list.setAttribute("aria-label", lane);
      const cards = board.lanes[lane];
      list.append(
        ...cards.map((/** @type {any} */ card, /** @type {number} */ i) => {
          const li = document.createElement("li");
          const name = document.createElement("strong");
          name.textContent = card.title;
          const meta = document.createElement("small");
          const labels = JSON.parse(card.labels ?? "[]")
            .map((/** @type {string} */ t) => `#${t}`)
            .join(" ");
          meta.textContent = [labels, `${card.points} pts`, card.due ? `due ${card.due_words}` : ""]
            .filter(Boolean)
            .join(" · ");
          const tools = document.createElement("span");
          tools.append(
            button("←", `Move ${card.title} left`, () => move(card.id, LANES[l - 1], 0), l > 0),
            button("↑", `Move ${card.title} up`, () => move(card.id, lane, i - 1), i > 0),
            button(
              "↓",
              `Move ${card.title} down`,
              () => move(card.id, lane, i + 1),
              i < cards.length - 1,
            ),
            button(
              "→",
              `Move ${card.title} right`,
              () => move(card.id, LANES[l + 1], 0),
              l < LANES.length - 1,
            ),
          );
          li.append(name, meta, tools);
          return li;
        }),
      );
      section.append(title, list);
      return section;
    }),
  );
}

/** @param {any} err */
function showFormError(err) {
  $("form-error").textContent = err.message;
  $("form-error").hidden = false;
}

async function main() {
  const db = await connect({
    name: "tasks",
    app: "tasks_app",
    onProgress: (loaded, total) => Object.assign($("progress"), { value: loaded, max: total }),
  });
  /** @type {any} */ (window).db = db;
  const boardId = await db.call("open_board", "My board");
  const refresh = async () => renderBoard(db, boardId, await db.call("board", boardId));
  // Any change to the board's order or to a card re-renders the board.
  db.subscribe(
    "SELECT (SELECT max(updated_at) FROM boards) AS b, (SELECT max(updated_at) FROM cards) AS c, (SELECT count(*) FROM cards) AS n",
    [],
    () => {
      refresh().catch(showFormError);
    },
  );
  // A live query over the labels list, straight from SQL (json_each).
  db.subscribe(
    "SELECT j.value AS label, count(*) AS n FROM cards, json_each(cards.labels) AS j GROUP BY j.value ORDER BY n DESC, label",
    [],
    (rows) => {
      $("labels").textContent = rows.map((r) => `${r.label} (${r.n})`).join(", ") || "none";
    },
  );
  $("add-card").addEventListener("submit", async (/** @type {Event} */ event) => {
    event.preventDefault();
    $("form-error").hidden = true;
    const labels = $("card-labels")
      .value.split(",")
      .map((/** @type {string} */ s) => s.trim())
      .filter(Boolean);
    try {
      await db.call(
        "add_card",
        boardId,
        $("card-title").value,
        "todo",
        labels,
        Number($("card-points").value || 0),
        $("card-due").value || null,
      );
      $("card-title").value = "";
      $("card-labels").value = "";
    } catch (err) {
      showFormError(err);
    }
  });
  await refresh();
  $("loading").hidden = true;
  $("app").hidden = false;
  document.documentElement.dataset.yloft = "ready";
}

main().catch(showErrorPanel);
