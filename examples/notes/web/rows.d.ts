// Written by `yloft types` from the app's Field declarations: do not edit, run it
// again after changing them (docs/types.md). A row holds what SQLite stored: a bool
// field is 0 or 1, a list or dict field its JSON text (JSON.parse it), and a field
// is null in a document without it. Pick the columns a query selects:
//   /** @type {Pick<NoteRow, "id" | "title">[]} */

/** A row of the 'notes' collection's table. */
export interface NoteRow {
  /** the document id */
  id: string;
  /** title: str */
  title: string | null;
  /** meta.done: bool, 0 or 1 */
  done: 0 | 1 | null;
  /** meta.tags: list, JSON text of a list */
  tags: string | null;
  /** body: str */
  body: string | null;
  /** creation time (unix seconds) */
  created_at: number | null;
  /** last change (unix seconds) */
  updated_at: number | null;
}

/** Each collection's row type, by collection name. */
export interface Rows {
  notes: NoteRow;
}
