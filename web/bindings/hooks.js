// yloft's UI hooks, written once for any framework whose hooks have React's semantics
// (Preact, React): `bindHooks(framework)` returns useQuery, useDoc, useCall and useStatus
// built on that framework's useState/useEffect/useContext. The page API does the work
// (db.subscribe, db.doc, db.call, db.on("status")): these hooks only hold its results in
// component state and stop what they started when a component unmounts.
//
//   import * as React from "react";                      // or Preact: bindings/preact.js
//   const { DatabaseProvider, useQuery } = bindHooks(React);
//   root.render(React.createElement(DatabaseProvider, { db }, React.createElement(App)));
//   function App() { const { rows, loading, error } = useQuery("SELECT ...", []); ... }
//
// The database reaches the hooks through a context: wrap the app in
// <DatabaseProvider db={db}> once (db: what connect() resolved to).

/** @typedef {import("../yloft.js").Database} Database */
/** @typedef {import("../yloft.js").Status} Status */
/** @typedef {import("../yloft.js").DocProvider} DocProvider */

/**
 * The parts of Preact or React the hooks are built on (both have them with one meaning).
 * @typedef {object} Framework
 * @property {(value: any) => any} createContext
 * @property {(type: any, props: any, ...children: any[]) => any} createElement
 * @property {(context: any) => any} useContext
 * @property {(initial: any) => [any, (next: any) => void]} useState
 * @property {(effect: () => void | (() => void), deps?: readonly unknown[]) => void} useEffect
 * @property {(fn: any, deps: readonly unknown[]) => any} useCallback
 */

/**
 * What useQuery returns: the rows (empty until the first result), whether the first
 * result for these arguments is still coming, and the error if the query failed.
 * @typedef {object} QueryState
 * @property {Record<string, any>[]} rows
 * @property {boolean} loading
 * @property {Error | null} error
 */

/**
 * What useDoc returns. `doc` is the page-side Y.Doc (null before the first render's
 * effect); the component renders again on every change to it, from any tab or device.
 * @typedef {object} DocState
 * @property {DocProvider | null} provider  db.doc(collection, id): awareness, "saved"
 * @property {import("../vendor/yjs.mjs").Doc | null} doc
 * @property {boolean} synced  the page holds the stored state
 * @property {number} unsaved  own edits not durable yet (0: everything is saved)
 * @property {Error | null} error  the engine refused or could not open the document
 */

/**
 * What useCall returns: `call(name, ...args)` calls the app's Python function (the promise
 * rejects with its error too), `pending` counts the calls running, `error` is the last
 * call's error (null once a call succeeds).
 * @typedef {object} CallState
 * @property {(name: string, ...args: any[]) => Promise<any>} call
 * @property {number} pending
 * @property {Error | null} error
 */

const NO_DB =
  "no yloft database here: render the component inside <DatabaseProvider db={db}> " +
  "(db: what connect() resolved to)";

/**
 * Build the hooks on a framework's own.
 * @param {Framework} framework  Preact (its exports and preact/hooks') or React
 */
export function bindHooks(framework) {
  const { createContext, createElement, useContext, useState, useEffect, useCallback } = framework;
  const DatabaseContext = createContext(null);

  /**
   * Gives the database to every hook below it.
   * @param {{db: Database, children?: any}} props
   */
  function DatabaseProvider({ db, children }) {
    return createElement(DatabaseContext.Provider, { value: db }, children);
  }

  /** @returns {Database} the database of the nearest DatabaseProvider */
  function useDatabase() {
    const db = useContext(DatabaseContext);
    if (!db) throw new Error(NO_DB);
    return db;
  }

  /**
   * A live query: its rows now and whenever they change (an edit in any tab, a sync from
   * another device). New SQL or params start a new subscription; unmounting stops it.
   * @param {string} sql  a read-only query
   * @param {any[]} [params]
   * @returns {QueryState}
   */
  function useQuery(sql, params = []) {
    const db = useDatabase();
    const key = JSON.stringify(params);
    const [state, setState] = useState(/** @type {QueryState} */ (LOADING));
    useEffect(() => {
      let live = true;
      setState((/** @type {QueryState} */ s) => (s.loading ? s : { ...s, loading: true }));
      const stop = db.subscribe(
        sql,
        JSON.parse(key),
        (rows) => live && setState({ rows, loading: false, error: null }),
        (error) => live && setState({ rows: [], loading: false, error }),
      );
      return () => {
        live = false;
        stop();
      };
    }, [db, sql, key]);
    return state;
  }

  /**
   * One stored document, live: renders again whenever it changes; its provider is
   * destroyed on unmount or when the collection or id change.
   * @param {string} collection
   * @param {string} id
   * @returns {DocState}
   */
  function useDoc(collection, id) {
    const db = useDatabase();
    const [state, setState] = useState(/** @type {DocState} */ (NO_DOC));
    useEffect(() => {
      const provider = db.doc(collection, id);
      const show = () =>
        setState({
          provider,
          doc: provider.doc,
          synced: provider.synced,
          unsaved: provider.unsaved,
          error: provider.error,
        });
      const fail = (/** @type {Error} */ error) => setState({ ...NO_DOC, provider, error });
      provider.doc.on("update", show);
      provider.on("synced", show);
      provider.on("saved", show);
      provider.on("error", fail);
      show();
      return () => {
        provider.doc.off("update", show);
        provider.destroy();
      };
    }, [db, collection, id]);
    return state;
  }

  /** @returns {CallState} */
  function useCall() {
    const db = useDatabase();
    const [state, setState] = useState({ pending: 0, error: null });
    const call = useCallback(
      async (/** @type {string} */ name, /** @type {any[]} */ ...args) => {
        setState((/** @type {any} */ s) => ({ ...s, pending: s.pending + 1 }));
        try {
          const value = await db.call(name, ...args);
          setState((/** @type {any} */ s) => ({ pending: s.pending - 1, error: null }));
          return value;
        } catch (error) {
          setState((/** @type {any} */ s) => ({ pending: s.pending - 1, error }));
          throw error;
        }
      },
      [db],
    );
    return { call, ...state };
  }

  /**
   * The database's status (storage, unsaved changes, writer tab, relay sync, errors), as
   * db.status reports it, rendered again on each "status" event.
   * @returns {Status}
   */
  function useStatus() {
    const db = useDatabase();
    const [status, setStatus] = useState(db.status);
    useEffect(() => {
      setStatus(db.status);
      return db.on("status", setStatus);
    }, [db]);
    return status;
  }

  return { DatabaseContext, DatabaseProvider, useDatabase, useQuery, useDoc, useCall, useStatus };
}

/** @type {QueryState} */
const LOADING = Object.freeze({ rows: [], loading: true, error: null });
/** @type {DocState} */
const NO_DOC = Object.freeze({ provider: null, doc: null, synced: false, unsaved: 0, error: null });
