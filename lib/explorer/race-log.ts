// Debug only (issue 13): which objects, and which pairs of threads, the races that add source-DPOR
// backtrack points are found on. It tells what false sharing costs (one object for all memory
// makes every memory access race with every other). Off unless DPOR_RACE_LOG is set in the
// environment of an unconfined run (a confined chapter has no `process`, so it is always off there);
// when off, `raceLog` is null and the search pays one null test per new backtrack point.

import type { Execution } from "./execution.ts";

function enabled(): boolean {
  try {
    const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
    return !!p?.env?.DPOR_RACE_LOG;
  } catch {
    return false; // the sandbox's `process` getter throws: confined, so off
  }
}

export class RaceLog {
  private readonly counts = new Map<string, number>();
  private total = 0;
  /** A race on object `obj` (-1: a step that ended the execution) between step j's thread and thread q added a backtrack point. */
  add(x: Execution, obj: number, tj: number, q: number): void {
    const o = obj < 0 ? "(end of execution)" : `${x.objects[obj]?.type ?? "?"} ${x.objects[obj]?.name ?? obj}`;
    const a = x.threads[tj]?.name ?? tj, b = x.threads[q]?.name ?? q;
    const key = `${o}  |  ${a} -> ${b}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;
  }
  /** Summary by object, then by object and thread pair; resets the log. */
  take(top = 25): string {
    const byObj = new Map<string, number>();
    for (const [k, n] of this.counts) {
      const o = k.split("  |  ")[0]!;
      byObj.set(o, (byObj.get(o) ?? 0) + n);
    }
    const fmt = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, n]) => `  ${String(n).padStart(8)} ${(100 * n / Math.max(1, this.total)).toFixed(1).padStart(5)}%  ${k}`);
    const out = [`races adding backtrack points: ${this.total}`, "by object:", ...fmt(byObj), "by object and threads (earlier -> later):", ...fmt(this.counts)].join("\n");
    this.counts.clear();
    this.total = 0;
    return out;
  }
  /** Print `header` and take() to the host's stderr (the log is on only where a host console exists). */
  print(header: string): void {
    (globalThis as { console?: { error(s: string): void } }).console?.error(`${header}\n${this.take()}`);
  }
}

export const raceLog: RaceLog | null = enabled() ? new RaceLog() : null;
