// Debug only (issue 13): which objects, and which pairs of threads, the races that add source-DPOR
// backtrack points are found on. It tells what false sharing costs (one object for all memory
// makes every memory access race with every other). Off unless DPOR_RACE_LOG is set in the
// environment of an unconfined run (a confined chapter has no `process`, so it is always off there);
// when off, `raceLog` is null and the search pays one null test per new backtrack point and per step.
//
// When on, each race is also keyed by the two steps' labels (innermost call frames), and a model
// that can tell which fields a step touched (lib/kernel/access-log.ts registers a `recorder`)
// adds the first field both steps touch, one of them writing: a race whose steps share no field is
// false sharing that splitting the object could remove, one on a shared field is not.

import type { Execution } from "./execution.ts";

function enabled(): boolean {
  try {
    const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
    return !!p?.env?.DPOR_RACE_LOG;
  } catch {
    return false; // the sandbox's `process` getter throws: confined, so off
  }
}

/** Fields one step touched: key -> 1 (read) or 2 (written). */
export type Accesses = ReadonlyMap<string, number>;

/** Field-level recording, supplied by a model (lib/kernel/access-log.ts). */
export interface AccessRecorder {
  /** A step's run() starts; what it touches until end() is its set. */
  begin(): void;
  end(): Accesses;
  /** The first field both touch, at least one writing (a short class name: "frame.ref"), or null. */
  conflict(a: Accesses, b: Accesses): string | null;
  /** The object whose races are classified by field (the model's one memory object). */
  readonly objectName: string;
}

/** What the race log keeps per step of an execution (only when it is on). */
export interface StepInfo {
  readonly label: string;
  acc: Accesses | null;
  readonly readOnly: boolean;
  readonly objName: string;
}

export class RaceLog {
  private readonly counts = new Map<string, number>();
  private readonly fields = new Map<string, number>();
  private readonly readOnlyWrites = new Map<string, number>();
  private total = 0;
  recorder: AccessRecorder | null = null;

  /** Execution.exec, before run(). */
  stepBegin(frames: readonly string[], label: string, objName: string, mode: string): StepInfo {
    this.recorder?.begin();
    return { label: `${frames.slice(-2).join(" › ")} › ${label}`, acc: null, readOnly: mode === "r", objName };
  }
  /** Execution.exec, after run(): a step declared read-only on the recorded object that wrote a field is logged. */
  stepEnd(s: StepInfo): void {
    if (!this.recorder) return;
    s.acc = this.recorder.end();
    if (s.readOnly && s.objName === this.recorder.objectName)
      for (const [k, m] of s.acc) if (m === 2) {
        const key = `${s.label}  writes  ${k.replace(/\d+/g, "#")}`;
        this.readOnlyWrites.set(key, (this.readOnlyWrites.get(key) ?? 0) + 1);
      }
  }

  /** A race on object `obj` (-1: a step that ended the execution) between step j (thread tj) and step k (thread q) added a backtrack point. */
  add(x: Execution, obj: number, tj: number, q: number, j = -1, k = -1): void {
    const o = obj < 0 ? "(end of execution)" : `${x.objects[obj]?.type ?? "?"} ${x.objects[obj]?.name ?? obj}`;
    const a = x.threads[tj]?.name ?? tj, b = x.threads[q]?.name ?? q;
    let key = `${o}  |  ${a} -> ${b}`;
    const sj = x.stepInfo?.[j], sk = x.stepInfo?.[k];
    if (sj && sk) {
      key += `  ||  ${sj.label}  ->  ${sk.label}`;
      if (this.recorder && obj >= 0 && x.objects[obj]?.name === this.recorder.objectName && sj.acc && sk.acc) {
        const f = this.recorder.conflict(sj.acc, sk.acc) ?? "(no field in common: false sharing)";
        this.fields.set(f, (this.fields.get(f) ?? 0) + 1);
        key += `  [${f}]`;
      }
    }
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
    const fmt = (m: Map<string, number>, total = this.total) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, n]) => `  ${String(n).padStart(8)} ${(100 * n / Math.max(1, total)).toFixed(1).padStart(5)}%  ${k}`);
    const out = [`races adding backtrack points: ${this.total}`, "by object:", ...fmt(byObj)];
    if (this.fields.size > 0) out.push(`races on ${this.recorder?.objectName} by the first field both steps touch (one writing):`, ...fmt(this.fields));
    if (this.readOnlyWrites.size > 0) {
      const n = [...this.readOnlyWrites.values()].reduce((s, v) => s + v, 0);
      out.push(`steps declared "r" on ${this.recorder?.objectName} that wrote a field (${n}):`, ...fmt(this.readOnlyWrites, n));
    }
    out.push("by object and threads (earlier -> later):", ...fmt(this.counts));
    this.counts.clear();
    this.fields.clear();
    this.readOnlyWrites.clear();
    this.total = 0;
    return out.join("\n");
  }
  /** Print `header` and take() to the host's stderr (the log is on only where a host console exists). */
  print(header: string): void {
    (globalThis as { console?: { error(s: string): void } }).console?.error(`${header}\n${this.take()}`);
  }
}

export const raceLog: RaceLog | null = enabled() ? new RaceLog() : null;
