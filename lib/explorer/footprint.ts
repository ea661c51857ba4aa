// Footprint checker (issue 13). DPOR orders two steps only if their declared footprints share an
// object that one of them writes (effect.ts), so a step that touches state outside its footprint
// makes the search lose traces silently. Objects split off a larger one (a Wait-Die mutex off its
// class, lib/kernel/ww-mutex.ts) keep their fields behind accessors that call checkFootprint(),
// in every execution, not only in tests: the check is one comparison on the running op.

import { currentRuntime } from "./context.ts";
import type { Op, Tracked } from "./effect.ts";
import { ExplorerError } from "./errors.ts";

/** The running op declares `obj` (with mode "w" or "u", which changes it, if `write`). */
function declares(op: Op, obj: Tracked, write: boolean): boolean {
  if (op.obj === obj && (!write || op.mode === "w" || op.mode === "u")) return true;
  if (op.also) for (const t of op.also) if (t.obj === obj && (!write || t.mode === "w" || t.mode === "u")) return true;
  return false;
}

/**
 * Throw an internal error unless the running step declares `obj` in its footprint (as a write if
 * `write`). State may be read or written freely in the model's setup and final() (no thread
 * runs), and outside any execution. `field` names the state for the message.
 */
export function checkFootprint(obj: Tracked, write: boolean, field: string): void {
  const rt = currentRuntime();
  if (rt === null || rt.inOp === undefined || rt.currentThread() < 0) return;
  const op = rt.inOp();
  if (op !== null && declares(op, obj, write)) return;
  const where = op === null
    ? "thread code between two steps (no step is running)"
    : `step "${op.label ?? (op.obj ? `${op.kind}(${op.obj.name})` : op.kind)}" (footprint: ${[op.obj, ...(op.also ?? []).map((t) => t.obj)].filter((o) => o !== null).map((o) => o!.name).join(", ") || "none"})`;
  throw new ExplorerError(
    `internal: footprint: ${rt.threadName(rt.currentThread())} ${write ? "writes" : "reads"} ${obj.type} ${obj.name} (${field}) in ${where}, which does not declare it${write ? " as a write" : ""}. ` +
      `DPOR would treat the two as independent and lose traces: add the object to the step (Op.also) or access it inside a step on it.`,
  );
}
