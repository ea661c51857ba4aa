// Uniform random walk: at every decision pick uniformly among enabled threads /
// choose() alternatives with a seeded PRNG. Sampling: can find bugs, never proves absence.

import { DEFAULT_RUNS, DEFAULT_SEED } from "./config.ts";
import { Execution, type Scheduler } from "./execution.ts";
import { Prng } from "./prng.ts";
import type { Explore } from "./search.ts";

export function bits(mask: number): number[] {
  const out: number[] = [];
  for (let m = mask; m; m &= m - 1) out.push(31 - Math.clz32(m & -m));
  return out;
}

class RandomScheduler implements Scheduler {
  constructor(private readonly rng: Prng) {}
  pickThread(_x: Execution, enabled: number): number {
    const b = bits(enabled);
    return b[this.rng.below(b.length)];
  }
  pickChoice(_x: Execution, arity: number): number {
    return this.rng.below(arity);
  }
}

export const exploreRandom: Explore = (ctx) => {
  const runs = ctx.config.runs ?? DEFAULT_RUNS;
  const seed = ctx.config.seed ?? DEFAULT_SEED;
  const sched = new RandomScheduler(new Prng(seed));
  for (let i = 0; i < runs; i++) {
    const coverage = { kind: "sampled", strategy: "random", runs: i, seed } as const;
    if (ctx.outOfBudget()) return { complete: false, coverage };
    const x = new Execution(ctx.model, sched, ctx.maxSteps).run();
    ctx.ran(x);
    if (!ctx.visit(x)) return { complete: false, coverage: { ...coverage, runs: i + 1 } };
  }
  return { complete: true, coverage: { kind: "sampled", strategy: "random", runs, seed } };
};
