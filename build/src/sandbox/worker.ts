// A worker thread of the run stage: hardens JavaScript (SES `lockdown()`), then runs work units
// one at a time (run.ts sends them, of whichever chapters its lane reaches), each linked afresh
// inside a `Compartment` of its own, and posts what its block did. lib/ alone is linked once per
// worker, in a Compartment of its own, and shared by the units: it keeps no state between calls
// (test/build/module-state.test.ts), its few ambient slots are reset when each unit loads
// (lib/explorer/ambient.ts), and every top-level binding of it is hardened, so a unit can leave
// nothing there for the next, whether the next is of the same chapter or of another.
//
// What this guarantees (see build/README.md, "Confinement"):
//  * a fresh Compartment per unit, in a realm whose intrinsics are frozen and whose only shared
//    code (lib/) is stateless and hardened: no unit reaches another's objects, of its own
//    chapter or of another one;
//  * frozen intrinsics (lockdown): `Array.prototype.x = …` throws at the chapter's own line;
//  * inside the Compartment there is no `process`, `require`, `fetch`, timer, `performance` or
//    `crypto`; `eval` and `Function` evaluate in the Compartment (no way back to the host);
//    `Math.random()`, `Date.now()` and `new Date()` throw;
//  * lib/ and imported chapters have their exports hardened: a chapter cannot patch them.
// The worker can be terminated at any time by the build's watchdog (run.ts), even inside a
// thread that never yields.

import "./install-spec-freeze.ts";
import "ses";
import { parentPort, workerData } from "node:worker_threads";
import type { ChapterBundle, CompiledModule } from "./modules.ts";
import { HeartbeatWriter } from "./heartbeat.ts";
import { StackMapper } from "./stack.ts";
import { FAST_GLOBALS, MODULE_PARAMS, RUNTIME_FILE, type BlockMessage, type UnitRequest, type WorkerInput, type WorkerMessage } from "./protocol.ts";
import type { BlockOutcome, BlockRun } from "../../runtime/chapter.ts";

declare const lockdown: (o: Record<string, string>) => void;
declare const harden: <T>(x: T) => T;
declare class Compartment {
  constructor(o: { globals: Record<string, unknown>; __options__: true });
  globalThis: Record<string, unknown>;
  evaluate(src: string): unknown;
}

const input = workerData as WorkerInput;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

/** Host globals a chapter might reach for; in the Compartment each is a getter that explains itself. */
const HOST_ONLY = ["process", "require", "module", "global", "Buffer", "fetch", "performance", "crypto", "navigator", "WebAssembly", "SharedArrayBuffer", "Atomics"];

/** Where the slowdown's busy loop writes, so that it is not optimised away. */
let spin = 0;

interface Registered {
  id: string;
  run: BlockRun;
  body: () => Promise<BlockOutcome>;
}

/** Once per worker: harden the realm. Units then run one at a time, each in a fresh Compartment. */
function setup(): void {
  // Deep model stacks (generators in generators) must still reach the chapter's own frames.
  Error.stackTraceLimit = 200;
  if (!input.unconfined) {
    // overrideTaming "min": the wider tamings turn builtins' data properties into accessors, which
    // V8 counts as changing them, and then drops its fast paths for array, Map and Set iteration
    // (its protectors; see spec-freeze.ts). lib/ and the runtime never assign over an inherited
    // builtin (records keyed by chapters' names have no prototype); a chapter that does gets a
    // TypeError at its own line.
    lockdown({ errorTaming: "unsafe", stackFiltering: "verbose", overrideTaming: "min", consoleTaming: "unsafe", localeTaming: "unsafe" });
  }
}

const hb = new HeartbeatWriter(input.heartbeat);
/** The modules of the running unit's chapter, and how to map their stack frames (useBundle). */
let bundle: ChapterBundle = { entry: "", modules: {} };
let stacks = new StackMapper(bundle);

type Linked = { exports: Record<string, unknown> };

/** A Compartment (null when unconfined) and how to evaluate a module's function in it. */
function newCompartment(): { g: Record<string, unknown>; fast: string[]; evaluate: (src: string) => unknown } {
  const compartment = input.unconfined ? null : new Compartment({ globals: {}, __options__: true });
  const g = compartment ? compartment.globalThis : (globalThis as unknown as Record<string, unknown>);
  if (compartment) {
    // Absent anyway; named, so that a chapter that reaches for them learns why at its own line.
    for (const name of HOST_ONLY) {
      Object.defineProperty(g, name, { get() { throw new TypeError(`${name} is not available to a chapter: chapter code reaches only the simulated machine (build/README.md, "Confinement")`); } });
    }
  }
  const fast = FAST_GLOBALS.filter((n) => n in g);
  return { g, fast, evaluate: (src: string): unknown => (compartment ? compartment.evaluate(src) : (0, eval)(src)) };
}

/** Evaluates one module's CommonJS function; returns what the function returned. */
function evaluateModule(c: ReturnType<typeof newCompartment>, m: CompiledModule, module: Linked, require: (spec: string) => unknown, extra: Record<string, unknown>): unknown {
  // The head takes one line of its own: generated line N + 1 is line N of the module's map.
  const params = [...MODULE_PARAMS, ...c.fast, ...Object.keys(extra)];
  const fn = c.evaluate(`(function (${params.join(", ")}) {\n${m.code}\n})\n//# sourceURL=${m.id}`) as (...a: unknown[]) => unknown;
  return fn(module.exports, require, module, ...c.fast.map((n) => c.g[n]), ...Object.values(extra));
}

/** lib/, linked once per worker in a Compartment of its own (made on first use). */
let lib: { c: ReturnType<typeof newCompartment>; linked: Map<string, Linked> } | null = null;
/** Modules of lib/ linked since the running unit started (reported with "done"). */
let linkedLib = 0;

function loadShared(m: CompiledModule): Record<string, unknown> {
  lib ??= { c: newCompartment(), linked: new Map() };
  const { c, linked } = lib;
  const seen = linked.get(m.id);
  if (seen) return seen.exports;
  hb.beat();
  const module: Linked = { exports: {} };
  linked.set(m.id, module);
  linkedLib++;
  const require = (spec: string) => {
    const dep = bundle.modules[m.deps[spec] ?? ""];
    if (!dep?.shared) throw new Error(`"${spec}" cannot be loaded from ${m.file}`);
    return loadShared(dep);
  };
  const locals = evaluateModule(c, m, module, require, {});
  if (!input.unconfined) harden([module.exports, locals]);
  return module.exports;
}

/**
 * One work unit: its chapter (all blocks, of which only the unit's test block runs: the others
 * are registered and never called; modules.ts `bundleOf`), with the runtime and imported
 * chapters, evaluated afresh in a Compartment of its own, linked to the worker's shared lib/.
 * Nothing a unit leaves behind (module state, a patched model, a memo) reaches the next one:
 * what they share is the hardened realm, lib/ (stateless, hardened, its ambient slots reset by
 * the runtime as it loads) and this host, whose state is created here.
 */
async function runUnit(entry: string, block: string | null, named: boolean): Promise<void> {
  const registered: Registered[] = [];
  // Records of the running block; a claim's wall time is measured here, outside the Compartment.
  let records: unknown[] | null = null;
  /** The running block's witness states: record index → JSON. */
  let states: string[] = [];
  let claimStart = 0;
  const host = {
    record(json: string) {
      if (!records) return;
      const r = JSON.parse(String(json)) as { type?: string; stats?: { ms?: number } };
      if (r.type === "claim" && r.stats) r.stats.ms = Math.round(performance.now() - claimStart);
      records.push(r);
    },
    register(id: string, run: BlockRun, body: () => Promise<BlockOutcome>) {
      if (registered.some((r) => r.id === String(id))) throw new Error(`block "${String(id)}" is registered twice`);
      registered.push({ id: String(id), run: { line: Number(run.line), skip: !!run.skip, fails: !!run.fails }, body });
    },
    states(json: string) {
      if (records && records.length > 0) states.push(`${JSON.stringify(String(records.length - 1))}:${String(json)}`);
    },
    replayToken: input.replayToken,
    log(text: string) {
      console.log(String(text));
    },
    heartbeat: {
      step: (t: number) => {
        hb.step(t);
        for (let i = 0; i < input.slowdown; i++) spin ^= i;
      },
      threads: (names: readonly string[]) => hb.threads(names),
      outsideExecution: () => hb.outsideExecution(),
      claim: (label: string) => {
        claimStart = performance.now();
        post({ type: "claim", label: String(label), frame: stacks.chapterFrame(new Error().stack) });
      },
    },
  };
  const bookHost = input.unconfined ? host : harden(host);
  // The unit's own Compartment: its chapter, the chapters it imports and the runtime.
  const c = newCompartment();
  const runtimeId = Object.keys(bundle.modules).find((id) => id.endsWith(RUNTIME_FILE));
  const loaded = new Map<string, Linked>();
  const load = (m: CompiledModule): Record<string, unknown> => {
    if (m.shared) return loadShared(m);
    const seen = loaded.get(m.id);
    if (seen) return seen.exports;
    hb.beat();
    const module: Linked = { exports: {} };
    loaded.set(m.id, module);
    const require = (spec: string) => {
      const dep = m.deps[spec];
      if (!dep) throw new Error(`"${spec}" cannot be loaded from ${m.file}`);
      return load(bundle.modules[dep]!);
    };
    // Only the book runtime gets `__bookHost`, as a parameter: it is no global, so a chapter
    // cannot register blocks or add records behind the runtime's back.
    evaluateModule(c, m, module, require, m.id === runtimeId ? { __bookHost: bookHost } : {});
    if (m.harden && !input.unconfined) harden(module.exports);
    return module.exports;
  };

  const t0 = performance.now();
  linkedLib = 0;
  try {
    load(bundle.modules[entry]!);
  } catch (e) {
    // lib/ may be half linked: the next unit links it afresh, as if this worker were new.
    lib = null;
    post({ type: "load-error", message: messageOf(e), frame: stacks.throwFrame(e) });
    post({ type: "done", durationMs: performance.now() - t0, linkedLib });
    return;
  }
  // The unit's own block only: a registration the chapter made by other means is not run.
  for (const b of registered) {
    if (b.id !== block) continue;
    hb.beat();
    post({ type: "block-start", id: b.id, line: b.run.line });
    if (b.run.skip && !named) {
      post({ type: "block", id: b.id, state: "skipped", durationMs: null, error: null, records: "[]", states: "{}", line: b.run.line });
      continue;
    }
    const tb = performance.now();
    records = [];
    states = [];
    const out = await b.body();
    const recs = JSON.stringify(records);
    const sts = `{${states.join(",")}}`;
    records = null;
    states = [];
    hb.outsideExecution();
    const durationMs = performance.now() - tb;
    let msg: BlockMessage;
    if (b.run.fails) {
      msg = out.threw
        ? { type: "block", id: b.id, state: "passed", durationMs, error: null, records: recs, states: sts, line: b.run.line }
        : { type: "block", id: b.id, state: "failed", durationMs, error: { message: "Expect test to fail", frame: null }, records: recs, states: sts, line: b.run.line };
    } else if (out.threw) {
      msg = { type: "block", id: b.id, state: "failed", durationMs, error: { message: messageOf(out.error), frame: stacks.throwFrame(out.error), context: stacks.callerFrame(out.error) }, records: recs, states: sts, line: b.run.line };
    } else {
      msg = { type: "block", id: b.id, state: "passed", durationMs, error: null, records: recs, states: sts, line: b.run.line };
    }
    post(msg);
  }
  post({ type: "done", durationMs: performance.now() - t0, linkedLib });
}

/**
 * The chapter of the units that follow. lib/ stays linked when every module of it this worker
 * linked has the same code in the new chapter's bundle (one build compiles lib/ once, so it
 * always has); otherwise the next unit links it afresh.
 */
function useBundle(next: ChapterBundle): void {
  if (lib && [...lib.linked.keys()].some((id) => next.modules[id]?.code !== bundle.modules[id]?.code)) lib = null;
  bundle = next;
  stacks = new StackMapper(next);
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return "a value that cannot be printed was thrown";
  }
}

setup();
// Units arrive one at a time (run.ts sends the next after "done").
parentPort!.on("message", (m: UnitRequest) => {
  if (m.bundle) useBundle(m.bundle);
  runUnit(m.entry, m.block, m.named).catch((e) => {
    post({ type: "crash", message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  });
});
