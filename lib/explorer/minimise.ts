// Witness minimisation: fewest preemptions first, then fewest steps.
//
// 1. Iterative preemption bounding (bounded.ts's idea) for k = 0, 1, ... up to the
//    witness's own preemption count (capped): the first witness found has the minimum
//    number of preemptions, given the budget. Skipped for a witness the bounded strategy found:
//    it already ran every level below (fewestPreemptions); the text says what bounding would
//    have said had it finished within the budget (which it then need not spend).
// 2. Greedy truncation: try the shortest prefix of the decision list after which the
//    default (non-preemptive) schedule still produces a witness with no more
//    preemptions and no more steps.
// Before both, a witness with more preemptions than bounding can reach (a seeded random walk's)
// first loses what block moves can take off (block-moves.ts), from the same budget.
// Every step has a budget; the result says which ran to completion.

import { Execution } from "./execution.ts";
import type { Model } from "./model.ts";
import { moveBlocks, planOf } from "./block-moves.ts";
import { DecisionScheduler, runDecisions } from "./replay.ts";
import { TreeScheduler } from "./tree.ts";

export interface MinimiseOptions {
  readonly maxPreemptions: number;
  /** Runs it may spend, over all its steps: a count, so the witness is the same on any machine. */
  readonly executions: number;
  /** Steps those runs may take in all (whichever of the two runs out first). */
  readonly steps: number;
  readonly maxSteps: number;
  /**
   * The witness was the first an iterative preemption-bounded search (bounded.ts) found: that
   * search ran every schedule with fewer preemptions, on the same tree and predicate, before it,
   * so bounding below its count would only run them again to find nothing.
   */
  readonly fewestPreemptions?: boolean;
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
  let runs = 0, stepsRun = 0;
  const spent = () => runs >= o.executions || stepsRun >= o.steps;
  const charge = (x: Execution) => {
    runs++;
    stepsRun += x.steps;
  };
  let best = found;
  const steps: string[] = [];
  // 0. block moves, only where bounding cannot reach below the witness
  if (best.preemptions > o.maxPreemptions + 1) {
    const from = best.preemptions;
    const start = planOf(model, new DecisionScheduler(decisionsOf(best)), o.maxSteps);
    charge(start.x);
    const r0 = runs;
    const m = moveBlocks(model, isWitness, start, { spent, charge }, o.maxSteps);
    best = m.best;
    const via = m.sameTrace >= 0 ? `, ${m.sameTrace} on its own trace with fewer switches,` : "";
    steps.push(`block moves: ${from}${via} -> ${best.preemptions} preemption(s) in ${m.moves} move(s), ${runs - r0} runs${m.settled ? " (none left to make)" : ", stopped by budget"}`);
  }
  // 1. preemption bounding
  const cap = Math.min(o.maxPreemptions, best.preemptions - 1);
  let bounded = "";
  search: for (let k = 0; k <= cap && !o.fewestPreemptions; k++) {
    const sched = new TreeScheduler(k);
    for (;;) {
      if (spent()) {
        bounded = `preemption bounding stopped by budget at k=${k}`;
        break search;
      }
      const x = new Execution(model, sched, o.maxSteps).run();
      charge(x);
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
  let truncated = false, stopped = false;
  for (let cut = 0; cut < ds.length; cut++) {
    if (spent()) {
      stopped = true;
      break;
    }
    const { x } = runDecisions(model, ds.slice(0, cut), o.maxSteps, false);
    charge(x);
    if (isWitness(x) && x.preemptions <= best.preemptions && x.steps <= best.steps) {
      best = x;
      truncated = true;
      break;
    }
  }
  steps.push(truncated ? "greedy truncation shortened the schedule" : stopped ? "greedy truncation stopped by budget" : "greedy truncation: no shorter schedule");
  return { decisions: decisionsOf(best), minimisation: steps.join("; ") };
}
