// Types of the runtime's vendor/preact.mjs (bundled from ./preact.js): only for tsc.
import type { VNode } from "preact";

export * from "preact";
export * from "preact/hooks";
/** htm bound to Preact's h: `html\`<p class=${c}>${text}</p>\`` builds Preact elements. */
export declare const html: (strings: TemplateStringsArray, ...values: unknown[]) => VNode | VNode[];
