// Every Web Lock, BroadcastChannel and IndexedDB name yloft uses for one database, in
// one place. `db` is the database name as scoped by the engine worker (an app served
// under a path gets a suffix; see engine-worker.js scopedName).

/** The writer lock: its holder is the one tab whose worker runs the engine. @param {string} db */
export const writerLock = (db) => `yloft-writer:${db}`;

/** Prefix of the tab liveness locks (`holdTabLock`). @param {string} db */
export const tabLockPrefix = (db) => `yloft-tab:${db}:`;

/** One tab's liveness lock, held for its worker's life. @param {string} db @param {string} tab */
export const tabLock = (db, tab) => tabLockPrefix(db) + tab;

/** Requests of every tab to the engine (only the writer listens). @param {string} db */
export const engineChannel = (db) => `yloft-engine:${db}`;

/** What the engine sends to one tab (replies, rows, document updates). @param {string} db @param {string} tab */
export const tabChannel = (db, tab) => `yloft-to:${db}:${tab}`;

/** What the engine announces to every tab (welcome, status, fatal). @param {string} db */
export const tabsChannel = (db) => `yloft-tabs:${db}`;

/** Page documents' updates, page to page, before the engine stored them. @param {string} db */
export const docsChannel = (db) => `yloft-docs:${db}`;

/** Presence between this app's pages and the writer's relay socket. @param {string} db */
export const awarenessChannel = (db) => `yloft-awareness:${db}`;

/** Page-to-page control messages (sign-out closes every page). @param {string} db */
export const controlChannel = (db) => `yloft-control:${db}`;

/** The IndexedDB database of the tabs' kept (unanswered) writes. @param {string} db */
export const outboxDatabase = (db) => `yloft-outbox:${db}`;

/** The IndexedDB database of every database's manifest (kept outside the database file,
 * to notice when the browser deleted it: worker/storage/manifest.js). */
export const manifestDatabase = "yloft-manifest";
