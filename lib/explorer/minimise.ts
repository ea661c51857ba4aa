// Witness minimisation: fewest preemptions first, then fewest steps.
//
// 1. Iterative preemption bounding (bounded.ts's idea) for k = 0, 1, ... up to the
//    witness's own preemption count (capped): the first witness found has the minimum
//    number of preemptions, given the budget.
// 2. Greedy truncation: try the shortest prefix of the decision list after which the
//    default (non-preemptive) schedule still produces a witness with no more
//    preemptions and no more steps.
// Both steps have a budget; the result says which ran to completion.

import { Execution } from "./execution.ts";
import type { Model } from "./model.ts";
import { runDecisions } from "./replay.ts";
import { TreeScheduler } from "./tree.ts";

export interface MinimiseOptions {
  readonly maxPreemptions: number;
  /** Runs it may spend, over both steps: a count, so the witness is the same on any machine. */
  readonly executions: number;
  readonly maxSteps: number;
}

export interface Minimised {
  readonly decisions: number[];
  readonly minimisation: string;
}

const decisionsOf = (x: Execution): number[] => {
  let n = x.decisions.length;
  while (n > 0 && x.isDefault[n - 1]) n--;
  return x.decisions.slice(0, n);
};

export function minimise(model: Model<unknown>, isWitness: (x: Execution) => boolean, found: Execution, o: MinimiseOptions): Minimised {
  let runs = 0;
  const spent = () => runs >= o.executions;
  let best = found;
  const steps: string[] = [];
  // 1. preemption bounding
  const cap = Math.min(o.maxPreemptions, best.preemptions - 1);
  let bounded = "";
  search: for (let k = 0; k <= cap; k++) {
    const sched = new TreeScheduler(k);
    for (;;) {
      if (spent()) {
        bounded = `preemption bounding stopped by budget at k=${k}`;
        break search;
      }
      const x = new Execution(model, sched, o.maxSteps).run();
      runs++;
      if (x.preemptions === k && isWitness(x)) {
        best = x;
        bounded = `preemption bounding: minimum is ${k} preemption(s)`;
        break search;
      }
      if (!sched.next()) break;
    }
  }
  if (!bounded) bounded = cap < 0 ? "preemption bounding: already 0 preemptions" : cap === best.preemptions - 1
        ? `preemption bounding: minimum is ${best.preemptions} preemption(s) (none with <= ${cap})`
        : `preemption bounding: none with <= ${cap}, kept ${best.preemptions}`;
  steps.push(bounded);
  // 2. greedy truncation
  const ds = decisionsOf(best);
  let truncated = false;
  for (let cut = 0; cut < ds.length; cut++) {
    if (spent()) {
      steps.push("greedy truncation stopped by budget");
      break;
    }
    const { x } = runDecisions(model, ds.slice(0, cut), o.maxSteps, false);
    runs++;
    if (isWitness(x) && x.preemptions <= best.preemptions && x.steps <= best.steps) {
      best = x;
      truncated = true;
      break;
    }
  }
  steps.push(truncated ? "greedy truncation shortened the schedule" : "greedy truncation: no shorter schedule");
  return { decisions: decisionsOf(best), minimisation: steps.join("; ") };
}
