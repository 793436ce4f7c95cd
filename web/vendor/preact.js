// Bundled by build.py (esbuild) into the runtime's vendor/preact.mjs: the one copy of
// Preact an app loads (hooks need a single copy), its hooks, and htm's `html` tagged
// template bound to Preact's h, so an app writes components with no build step.
import { h } from "preact";
import htm from "htm";

export * from "preact";
export * from "preact/hooks";
export const html = htm.bind(h);
