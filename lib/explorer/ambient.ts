// lib/ keeps no module state (test/build/module-state.test.ts) except a few ambient slots: hooks
// the host installs (claim sink and gate, replay token, heartbeat, progress), the running
// execution (context.ts) and the determinism guard's global (guard.ts). The book links lib/ once
// per chapter worker and shares it between the chapter's units (build/src/sandbox/worker.ts), so
// the runtime calls resetAmbient() first thing when each unit loads: whatever a unit left in a
// slot, by a throw mid-execution or by calling a setter itself, the next unit starts from here.
// build/src/sandbox/ambient.ts lists the slots; its test checks that this resets every one.

import { setClaimGate, setClaimSink } from "./claim.ts";
import { setRuntime } from "./context.ts";
import { setGuardGlobal } from "./guard.ts";
import { setHeartbeat, setProgress } from "./progress.ts";
import { setReplayToken } from "./replay-claim.ts";

/** Every ambient slot back to its initial value; `global`: the one the determinism guard guards. */
export function resetAmbient(global: object): void {
  setRuntime(null);
  setGuardGlobal(global);
  setProgress(null, null);
  setHeartbeat(null);
  setClaimSink(null);
  setClaimGate(null);
  setReplayToken(null);
}
