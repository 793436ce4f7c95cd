// yloft's hooks bound to React: the same useQuery, useDoc, useCall and useStatus as the
// runtime's Preact bindings (bindings/hooks.js holds them once, for both frameworks).
import * as React from "react";
import { bindHooks } from "yloft-runtime/bindings/hooks.js";

export const { DatabaseProvider, useQuery, useDoc, useCall, useStatus } = bindHooks(React);
