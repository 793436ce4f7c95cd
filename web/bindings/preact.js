// yloft's hooks for Preact, with no build step: Preact, its hooks and htm's `html` come
// from the runtime's vendor/preact.mjs (one copy, so hooks work), re-exported here so an
// app imports everything from this one module.
//
//   import { connect } from "../yloft.js";
//   import { DatabaseProvider, html, render, useQuery } from "./bindings/preact.js";
//   function Items() {
//     const { rows, loading, error } = useQuery("SELECT id, title FROM items", []);
//     return html`<ul>${rows.map((r) => html`<li key=${r.id}>${r.title}</li>`)}</ul>`;
//   }
//   const db = await connect({ name: "todo", app: "todo_app" });
//   render(html`<${DatabaseProvider} db=${db}><${Items} /><//>`, document.body);
//
// The hooks (useQuery, useDoc, useCall, useStatus) are bindings/hooks.js's, bound to
// Preact; docs/bindings.md describes them.
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useState,
} from "../vendor/preact.mjs";
import { bindHooks } from "./hooks.js";

export * from "../vendor/preact.mjs";

// Named here so the declarations tsc writes from this file (an app's .yloft/types/) carry
// the hooks' types, not names it would leave undefined.
/** @typedef {import("../yloft.js").Database} Database */
/** @typedef {import("../yloft.js").Status} Status */
/** @typedef {import("./hooks.js").QueryState} QueryState */
/** @typedef {import("./hooks.js").DocState} DocState */
/** @typedef {import("./hooks.js").CallState} CallState */

export const {
  DatabaseContext,
  DatabaseProvider,
  useDatabase,
  useQuery,
  useDoc,
  useCall,
  useStatus,
} = bindHooks({ createContext, createElement, useCallback, useContext, useEffect, useState });
