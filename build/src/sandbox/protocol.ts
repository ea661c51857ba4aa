// Messages between the build (run.ts) and a chapter's worker (worker.ts). Plain data only.

import type { ChapterBundle } from "./modules.ts";

/** Where the tangled chapter's `__book` import points. */
export const RUNTIME_FILE = "build/runtime/chapter.ts";

/** The parameters of the function a module's code is evaluated in (worker.ts evaluateModule), in
 *  order: CommonJS's, then FAST_GLOBALS (those the Compartment has). A chapter's top-level `let`,
 *  `const` or `class` of one of these names is an early error there (load-check.ts). */
export const MODULE_PARAMS = ["exports", "require", "module"] as const;

// Intrinsics a module gets as parameters instead of global lookups: inside a Compartment every
// free global goes through a scope proxy, which made the kernel model about 15x slower.
// Date and Promise stay global so that the explorer's determinism guard can still stub them.
export const FAST_GLOBALS: readonly string[] = [
  "Object", "Array", "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Math", "JSON", "Reflect", "Proxy", "Symbol", "Number",
  "String", "Boolean", "BigInt", "RegExp", "Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError",
  "URIError", "AggregateError", "ArrayBuffer", "DataView", "Uint8Array", "Uint8ClampedArray", "Int8Array", "Uint16Array",
  "Int16Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
  "parseInt", "parseFloat", "isNaN", "isFinite", "Infinity", "NaN", "globalThis",
];

export interface Frame { file: string; line: number; col: number }

export interface WorkerInput {
  heartbeat: SharedArrayBuffer;
  replayToken: string | null;
  /** No lockdown and no Compartment: for `npm run bench`'s baseline only, never for a verdict. */
  unconfined: boolean;
  /** Tests only: busy-loop iterations added to every step (a slower machine, same model). */
  slowdown: number;
}

/** The build asks a worker to run one unit (after the previous one's "done"). */
export interface UnitRequest {
  /** Module id of the unit in the bundle (modules.ts, `unitModuleId`): the whole chapter's module, unless the chapter does not parse. */
  entry: string;
  /** The test block it runs; null: the chapter has none, the unit only loads it. */
  block: string | null;
  /** The block was named on `npm run chapter`'s command line: it runs even if marked `skip`. */
  named: boolean;
  /** Every module of the unit's chapter (modules.ts bundleOf), sent when the worker does not have
   *  that bundle (its first unit of a chapter, or of a chapter edited since); absent, the unit
   *  runs on the bundle of the request before it. */
  bundle?: ChapterBundle;
}

export interface BlockMessage {
  type: "block";
  id: string;
  line: number;
  state: "passed" | "failed" | "skipped";
  durationMs: number | null;
  /** `frame`: where it was thrown (the first chapter line on the stack); `context`: the chapter
   * line that called into lib/ (a claim), when that is another line. */
  error: { message: string; frame: Frame | null; context?: Frame | null } | null;
  /** The block's records, as JSON. */
  records: string;
  /** Witness states (lib/explorer/state.ts) by record index, as JSON; kept out of results.json. */
  states: string;
}

export type WorkerMessage =
  | BlockMessage
  | { type: "block-start"; id: string; line: number }
  | { type: "claim"; label: string; frame: Frame | null }
  | { type: "load-error"; message: string; frame: Frame | null }
  | { type: "crash"; message: string }
  /** `linkedLib`: modules of lib/ this unit linked (0 when an earlier unit of the worker had). */
  | { type: "done"; durationMs: number; linkedLib: number };
