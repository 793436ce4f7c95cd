// Holds web/yloft.d.ts (what apps see) to web/yloft.js's JSDoc (what runs), both ways,
// under `tsc -p .` (tsconfig.json; python3 build.py test runs it). "yloft-implementation"
// is tsconfig.json's `paths` alias of web/yloft.js itself: "../../web/yloft.js" resolves to
// the .d.ts beside it, as it does in an app. Nothing here runs.
//
// - what the runtime gives the app (a Database, a DocProvider, a Status, a Startup ...)
//   must fit the declared type: implementation -> declaration;
// - what the app gives the runtime (connect()'s options, an Evicted it passes back ...)
//   must be accepted by the implementation: declaration -> implementation;
// - data shapes (Status, RelayStatus, Evicted, Startup, ConnectOptions) go both ways.

import * as impl from "yloft-implementation";
import * as api from "../../web/yloft.js";
import * as textInputImpl from "text-input-implementation";
import * as textInput from "../../web/text-input.js";

// Functions: the implementation, called as declared, accepts what the declaration lets an
// app pass and returns what it promises.
export const connect: typeof api.connect = impl.connect;
export const describeStartup: typeof api.describeStartup = impl.describeStartup;
export const showErrorPanel: typeof api.showErrorPanel = impl.showErrorPanel;
export const showStartupNotice: typeof api.showStartupNotice = impl.showStartupNotice;
export const stages: typeof api.STARTUP_STAGES = impl.STARTUP_STAGES;

// Classes: the instances the runtime makes fit the declared ones; errors go both ways.
declare const implDatabase: impl.Database;
declare const implProvider: impl.DocProvider;
export const database: api.Database = implDatabase;
export const provider: api.DocProvider = implProvider;
export const EngineError: typeof api.EngineError = impl.EngineError;
export const EngineErrorBack: typeof impl.EngineError = api.EngineError;
export const DocError: typeof api.DocError = impl.DocError;
export const DocErrorBack: typeof impl.DocError = api.DocError;
export const DocProvider: typeof api.DocProvider = impl.DocProvider;
export const Y: typeof api.Y = impl.Y;
export const bindTextInput: typeof textInput.bindTextInput = textInputImpl.bindTextInput;

// Data shapes: the same both ways.
declare const implStatus: impl.Status;
declare const apiStatus: api.Status;
export const status: api.Status = implStatus;
export const statusBack: impl.Status = apiStatus;
declare const implRelay: impl.RelayStatus;
declare const apiRelay: api.RelayStatus;
export const relay: api.RelayStatus = implRelay;
export const relayBack: impl.RelayStatus = apiRelay;
declare const implEvicted: impl.Evicted;
declare const apiEvicted: api.Evicted;
export const evicted: api.Evicted = implEvicted;
export const evictedBack: impl.Evicted = apiEvicted;
declare const implStartup: impl.Startup;
declare const apiStartup: api.Startup;
export const startup: api.Startup = implStartup;
export const startupBack: impl.Startup = apiStartup;
declare const implOptions: impl.ConnectOptions;
declare const apiOptions: api.ConnectOptions;
export const options: api.ConnectOptions = implOptions;
export const optionsBack: impl.ConnectOptions = apiOptions;

// Same keys, too (an optional member only one side has would pass the assignments).
type Extra<A, B> = Exclude<keyof A, keyof B>;
type None<K> = [K] extends [never] ? true : { only_on_one_side: K };
type SameKeys<A, B> = None<Extra<A, B> | Extra<B, A>>;
export const statusKeys: SameKeys<api.Status, impl.Status> = true;
export const relayKeys: SameKeys<api.RelayStatus, impl.RelayStatus> = true;
export const evictedKeys: SameKeys<api.Evicted, impl.Evicted> = true;
export const startupKeys: SameKeys<api.Startup, impl.Startup> = true;
export const optionsKeys: SameKeys<api.ConnectOptions, impl.ConnectOptions> = true;
type ImplRelay = NonNullable<impl.ConnectOptions["relay"]>;
export const relayOptionKeys: SameKeys<api.RelayOptions, ImplRelay> = true;

// The declaration's own promises: typed rows, and no member silently `any` (an import
// the declaration cannot resolve would make it so).
type IsAny<T> = 0 extends 1 & T ? true : false;
export const docNotAny: IsAny<api.DocProvider["doc"]> = false;
export const statusNotAny: IsAny<api.Database["status"]> = false;
export const queryNotAny: IsAny<api.Database["query"]> = false;
declare const db: api.Database;
export const rows: Promise<{ title: string }[]> = db.query<{ title: string }>("SELECT title");
export const stop: () => void = db.subscribe<{ n: number }>("SELECT 1 AS n", [], (r) => {
  const n: number = r[0].n;
  return n;
});
