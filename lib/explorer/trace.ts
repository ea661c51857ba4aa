// Materialised traces and their terminal rendering.

import type { DeadlockData, Finding } from "./finding.ts";

export interface TraceEvent {
  /** Index of the scheduling step (choices made while a thread runs its code share it). */
  step: number;
  thread: string;
  /** Step label, with call() frames: "unmap_vmas › write(pte)". */
  label: string;
  /** Object name ("" for local steps). */
  obj: string;
  /** Effect kind: "read", "write", "lock", "choose", ... */
  kind: string;
  /** Locks held by the thread after the step. */
  held: string[];
  /** State-change notes and findings reported during the step. */
  note: string;
  /** The value of a choose(). */
  value?: number;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ").trimEnd()).join("\n");
}

/** Plain-text trace: one aligned line per step. */
export function formatTrace(trace: readonly TraceEvent[], findings: readonly Finding[] = []): string {
  const rows = [["step", "thread", "label", "effect", "held", "note"]];
  for (const e of trace) {
    rows.push([String(e.step), e.thread, e.label, e.kind === "choose" ? `choose = ${e.value}` : e.obj ? `${e.kind} ${e.obj}` : e.kind, e.held.length ? `{${e.held.join(",")}}` : "", e.kind === "choose" ? "" : e.note]);
  }
  let out = table(rows);
  for (const f of findings) {
    out += `\n${f.kind.toUpperCase()}${f.thread ? ` in ${f.thread}` : ""} at step ${f.step}: ${f.message}`;
    if (f.kind === "deadlock" && f.data) out += "\n" + formatDeadlock(trace, f.data as DeadlockData);
  }
  return out;
}

// Frozen arrays, not Sets: a Set stays mutable when frozen, and lib/ keeps no module state.
const ACQUIRE: readonly string[] = Object.freeze(["lock", "trylock", "down_read", "down_write", "down", "wait", "schedule"]);
const RELEASE: readonly string[] = Object.freeze(["unlock", "up_read", "up_write", "up", "signal", "signal-all", "wake_up"]);

/** lockdep-style report: headline, the wait-for cycle, a CPU0 | CPU1 scenario table. */
export function formatDeadlock(trace: readonly TraceEvent[], d: DeadlockData): string {
  const edges = d.cycle.length ? d.cycle : d.blocked;
  const lines = ["======================================================", `WARNING: ${d.cycle.length ? "circular locking deadlock" : "all threads blocked"} detected`, "------------------------------------------------------"];
  for (const e of edges) {
    lines.push(`${e.thread} is blocked in ${e.op} on ${e.waitsFor}${e.heldBy.length ? `, held by ${e.heldBy.join(", ")}` : ", which nobody will release"}`);
    lines.push(`  while holding: ${e.holds.length ? e.holds.join(", ") : "(nothing)"}`);
  }
  const cols = edges.map((e) => e.thread);
  const width = Math.max(24, ...cols.map((c) => c.length + 8));
  const cell = (i: number, text: string) => " ".repeat(i * width) + "  " + text;
  lines.push("", " Possible unsafe locking scenario:", "");
  lines.push(cols.map((c, i) => `CPU${i} (${c})`.padEnd(width)).join("").replace(/^/, "  ").trimEnd());
  lines.push(cols.map(() => "----".padEnd(width)).join("").replace(/^/, "  ").trimEnd());
  for (const ev of trace) {
    const i = cols.indexOf(ev.thread);
    if (i < 0 || !(ACQUIRE.includes(ev.kind) || RELEASE.includes(ev.kind))) continue;
    lines.push(cell(i, `${ev.kind}(${ev.obj});`));
  }
  edges.forEach((e, i) => lines.push(cell(i, `${e.op.replace(/\(.*$/, "")}(${e.waitsFor});   <- blocked`)));
  lines.push("", " *** DEADLOCK ***");
  return lines.join("\n");
}
