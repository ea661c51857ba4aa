// Naive Mazurkiewicz trace counting, the yardstick of optimal DPOR: run every interleaving (and
// every choose() value) with the naive DFS scheduler, turn each execution into a canonical
// representative of its trace, count the distinct ones.
//
// Events are (thread name, index in the thread, choose() values made in the step); two events are
// ordered in the trace iff they are of one thread, or their footprints conflict (effect.ts), or
// one of them ended the execution ({ end: true }: dependent with every step, as in dpor.ts), or
// one is the step that spawned the other's thread. The canonical representative is the
// linearisation of that partial order that always takes the lowest thread name it can.
// Threads are named, not numbered: a spawned thread's number depends on the schedule.
import { stepsConflict } from "../../lib/explorer/effect.ts";
import { Execution, type Scheduler } from "../../lib/explorer/execution.ts";
import { TreeScheduler } from "../../lib/explorer/tree.ts";
import type { Model } from "../../lib/explorer/model.ts";

/** Canonical key of x's trace; ch[s] = choose() values made while x.steps was s. */
export function traceKey(x: Execution, ch: number[][]): string {
  const n = x.steps;
  const th = x.stepThread, ob = x.stepObj, md = x.stepMode, ft = x.stepFoot;
  const stop = x.status === "stopped" ? n - 1 : -1;
  const preds: number[][] = [];
  for (let k = 0; k < n; k++) {
    const p: number[] = [];
    for (let i = 0; i < k; i++) {
      const dep = th[i] === th[k] || i === stop || k === stop || x.threads[th[k]].spawnStep === i || stepsConflict(ob[i], md[i], ft[i], ob[k], md[k], ft[k]);
      if (dep) p.push(i);
    }
    preds.push(p);
  }
  const done = new Array<boolean>(n).fill(false);
  const name = (k: number) => x.threads[th[k]].name;
  const out: string[] = [`init:${(ch[0] ?? []).join(",")}`];
  for (let c = 0; c < n; c++) {
    let best = -1;
    for (let k = 0; k < n; k++) {
      if (done[k] || !preds[k].every((i) => done[i])) continue;
      if (best < 0 || name(k) < name(best)) best = k;
    }
    done[best] = true;
    out.push(`${name(best)}:${(ch[best + 1] ?? []).join(",")}`);
  }
  return out.join(" ") + ` |${x.status}`;
}

class Recording implements Scheduler {
  ch: number[][] = [];
  constructor(private readonly inner: TreeScheduler) {}
  pickThread(x: Execution, enabled: number): number {
    return this.inner.pickThread(x, enabled);
  }
  pickChoice(x: Execution, arity: number, label: string): number {
    const v = this.inner.pickChoice(x, arity);
    (this.ch[x.steps] ??= []).push(v);
    return v;
  }
}

/** Distinct Mazurkiewicz traces of m's complete executions, or null past `limit` executions. */
export function countTraces(m: Model<unknown>, limit: number, maxSteps = 200): { traces: number; executions: number } | null {
  const tree = new TreeScheduler();
  const keys = new Set<string>();
  let executions = 0;
  do {
    if (executions >= limit) return null;
    const rec = new Recording(tree);
    const x = new Execution(m, rec, maxSteps).run();
    executions++;
    keys.add(traceKey(x, rec.ch));
  } while (tree.next());
  return { traces: keys.size, executions };
}
