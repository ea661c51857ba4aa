// The only module state lib/ may keep, each slot with why it cannot carry anything from one of a
// chapter's units to the next, although the units share one linked lib/ (worker.ts). Everything
// else at the top level of a lib/ module is immutable (test/build/module-state.test.ts proves it
// of the source) and hardened once loaded (modules.ts, `locals`). The slots written by
// `writers` only; `reset`: lib/explorer/ambient.ts resetAmbient() calls it, and the book runtime
// calls resetAmbient() before anything else when each unit loads.

export interface AmbientSlot {
  /** Module, from the repository root. */
  readonly file: string;
  /** The top-level binding. */
  readonly name: string;
  /** The only functions (or methods) that may assign it or its properties; "(load)": the module's top level. */
  readonly writers: readonly string[];
  /** The setter resetAmbient() calls to put it back, or null when it cannot be set in the sandbox. */
  readonly reset: string | null;
  readonly why: string;
}

const HOOK = "a hook the host installs; resetAmbient() clears it when each unit loads, and the runtime then installs its own";

export const AMBIENT: readonly AmbientSlot[] = Object.freeze([
  { file: "lib/explorer/claim.ts", name: "sink", writers: ["setClaimSink"], reset: "setClaimSink", why: HOOK },
  { file: "lib/explorer/claim.ts", name: "gate", writers: ["setClaimGate"], reset: "setClaimGate", why: HOOK },
  { file: "lib/explorer/replay-claim.ts", name: "token", writers: ["setReplayToken"], reset: "setReplayToken", why: HOOK },
  { file: "lib/explorer/progress.ts", name: "progressFn", writers: ["setProgress"], reset: "setProgress", why: HOOK },
  { file: "lib/explorer/progress.ts", name: "progressClock", writers: ["setProgress"], reset: "setProgress", why: HOOK },
  { file: "lib/explorer/progress.ts", name: "heartbeat", writers: ["setHeartbeat"], reset: "setHeartbeat", why: HOOK },
  {
    file: "lib/explorer/context.ts", name: "current", writers: ["setRuntime"], reset: "setRuntime",
    why: "the running execution: set and put back in a finally around each execution (execution.ts, stateful-machine.ts), and cleared when each unit loads, so a unit that threw mid-execution or set it itself leaves nothing",
  },
  {
    file: "lib/explorer/guard.ts", name: "depth", writers: ["installGuard", "uninstallGuard", "unguarded", "setGuardGlobal"], reset: "setGuardGlobal",
    why: "the determinism guard's nesting: installed and lifted in a finally around model code; setGuardGlobal() lifts it whatever a unit left",
  },
  {
    file: "lib/explorer/guard.ts", name: "saved", writers: ["installGuard"], reset: "setGuardGlobal",
    why: "the guarded global's originals while the guard is on; put back when it is lifted (setGuardGlobal() lifts it)",
  },
  {
    file: "lib/explorer/guard.ts", name: "g", writers: ["installGuard", "uninstallGuard", "setGuardGlobal"], reset: "setGuardGlobal",
    why: "the global the guard stubs: each unit's own Compartment global, named when the unit loads; stubbed only while the guard is on",
  },
  {
    file: "lib/explorer/guard.ts", name: "Math", writers: ["installGuard", "uninstallGuard"], reset: null,
    why: "Math.random is replaced only where Math is not frozen: never under SES (lockdown freezes Math; mathFrozen())",
  },
  {
    file: "lib/explorer/guard.ts", name: "stubs", writers: [], reset: null,
    why: "throwing stand-ins for the timers and Promise: functions and a Proxy without a set trap (a write goes to the frozen Promise)",
  },
  {
    file: "lib/explorer/race-log.ts", name: "raceLog", writers: [], reset: null,
    why: "null in the sandbox (a Compartment's process getter throws, so enabled() is false); a debug log for unconfined runs only",
  },
  {
    file: "lib/kernel/access-log.ts", name: "raceLog", writers: ["(load)"], reset: null,
    why: "the race log's field recorder, installed at load only when the race log is on: never in the sandbox, where raceLog is null",
  },
  {
    file: "lib/kernel/access-log.ts", name: "cur", writers: ["begin", "end"], reset: null,
    why: "written only by the race log's recorder, which is installed only when raceLog is on: never in the sandbox",
  },
  {
    file: "lib/explorer/stateful.ts", name: "mutations", writers: [], reset: null,
    why: "the explorer's own tests flip these to show a test can fail; exported, so hardened in the sandbox, where setting one throws",
  },
  {
    file: "lib/explorer/execution.ts", name: "fieldMutations", writers: [], reset: null,
    why: "the explorer's own tests flip these to show a test can fail; exported, so hardened in the sandbox, where setting one throws",
  },
  {
    file: "lib/explorer/dpor.ts", name: "latchMutations", writers: [], reset: null,
    why: "the explorer's own tests flip these to show a test can fail; exported, so hardened in the sandbox, where setting one throws",
  },
]);

/**
 * Modules of lib/ the sandbox never loads, so never shares: they import Node (modules.ts refuses
 * any specifier that is not a relative path into lib/).
 */
export const HOST_ONLY_MODULES: readonly string[] = Object.freeze(["lib/explorer/parallel.ts"]);
