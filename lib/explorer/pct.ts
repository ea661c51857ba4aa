// PCT: Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with
// Probabilistic Guarantees of Finding Bugs", ASPLOS'10.
//
// Each run: threads get random distinct priorities >= d; d-1 change points are drawn
// uniformly from [1, k]; the highest-priority enabled thread always runs; at the i-th
// change point the running thread drops to priority d-i (below every initial one).
// Deviations: k (the step count) is not known in advance, so it is estimated as the
// longest run seen so far (first run: 100); spawned threads get a random priority
// among the initial ones; choose() values are drawn uniformly (PCT has no data choices).

import { DEFAULT_PCT_DEPTH, DEFAULT_RUNS, DEFAULT_SEED } from "./config.ts";
import { Execution, type Scheduler } from "./execution.ts";
import { Prng } from "./prng.ts";
import type { Explore } from "./search.ts";

class PctScheduler implements Scheduler {
  private prio: number[] = [];
  private changeAt: number[] = [];
  constructor(private readonly rng: Prng, private readonly depth: number) {}

  reset(k: number): void {
    this.prio = [];
    this.changeAt = [];
    for (let i = 1; i < this.depth; i++) this.changeAt.push(1 + this.rng.below(Math.max(1, k)));
  }

  pickThread(x: Execution, enabled: number): number {
    while (this.prio.length < x.threads.length) this.prio.push(this.depth + (this.rng.nextU32() / 4294967296) * (x.threads.length + 1));
    let best = this.highest(enabled);
    // Change points are 1-based step numbers; the thread about to run step k_i is demoted first.
    for (let i = 0; i < this.changeAt.length; i++) {
      if (this.changeAt[i] !== x.steps + 1) continue;
      this.prio[best] = this.depth - 1 - i;
      best = this.highest(enabled);
    }
    return best;
  }

  private highest(enabled: number): number {
    let best = -1;
    for (let m = enabled; m; m &= m - 1) {
      const t = 31 - Math.clz32(m & -m);
      if (best < 0 || this.prio[t] > this.prio[best]) best = t;
    }
    return best;
  }

  pickChoice(_x: Execution, arity: number): number {
    return this.rng.below(arity);
  }
}

export const explorePct: Explore = (ctx) => {
  const runs = ctx.config.runs ?? DEFAULT_RUNS;
  const seed = ctx.config.seed ?? DEFAULT_SEED;
  const depth = ctx.config.depth ?? DEFAULT_PCT_DEPTH;
  const sched = new PctScheduler(new Prng(seed), depth);
  let k = 100;
  for (let i = 0; i < runs; i++) {
    const coverage = { kind: "sampled", strategy: "pct", runs: i, seed, depth } as const;
    if (ctx.outOfBudget()) return { complete: false, coverage };
    sched.reset(k);
    const x = new Execution(ctx.model, sched, ctx.maxSteps).run();
    ctx.ran(x);
    k = i === 0 ? Math.max(1, x.steps) : Math.max(k, x.steps);
    if (!ctx.visit(x)) return { complete: false, coverage: { ...coverage, runs: i + 1 } };
  }
  return { complete: true, coverage: { kind: "sampled", strategy: "pct", runs, seed, depth } };
};
