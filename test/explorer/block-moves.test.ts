// Witness minimisation for witnesses far beyond preemption bounding (block-moves.ts):
// relinearising a witness's own trace must give the same trace (and so the same outcome), and the
// block moves must reach the minimum on a program whose minimum is known.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runPlan, sameTraceFewerSwitches } from "../../lib/explorer/block-moves.ts";
import { Execution, type Scheduler } from "../../lib/explorer/execution.ts";
import { check, finding, model, SharedVar } from "../../lib/explorer/index.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { Prng } from "../../lib/explorer/prng.ts";
import { bits } from "../../lib/explorer/random.ts";
import { blockingProgramArb, type Instr, multiProgramArb, programModel, spawnBlockingProgramArb, spawnProgramArb, updateProgramArb } from "./programs.ts";
import { traceKey } from "./traces.ts";

/** A seeded random walk that records each step's choose() values (traceKey's `ch`) and each thread's. */
class Walk implements Scheduler {
  readonly ch: number[][] = [];
  readonly byThread: number[][] = [];
  constructor(private readonly rng: Prng) {}
  pickThread(_x: Execution, enabled: number): number {
    const b = bits(enabled);
    return b[this.rng.below(b.length)];
  }
  pickChoice(x: Execution, arity: number): number {
    const v = this.rng.below(arity);
    (this.ch[x.steps] ??= []).push(v);
    (this.byThread[x.currentThread()] ??= []).push(v);
    return v;
  }
}

/** Re-runs a thread order and records choose() values per step, for traceKey. */
class Follow implements Scheduler {
  readonly ch: number[][] = [];
  private i = 0;
  private readonly used: number[] = [];
  constructor(private readonly order: readonly number[], private readonly choices: readonly (readonly number[])[]) {}
  pickThread(x: Execution, enabled: number): number {
    const t = this.order[this.i++];
    return t !== undefined && enabled & (1 << t) ? t : x.defaultThread(enabled);
  }
  pickChoice(x: Execution, arity: number): number {
    const t = x.currentThread();
    const k = this.used[t] ?? 0;
    this.used[t] = k + 1;
    const v = this.choices[t]?.[k] ?? 0;
    (this.ch[x.steps] ??= []).push(v);
    return v < arity ? v : 0;
  }
}

const outcome = (x: Execution) => `${JSON.stringify(x.final)}|${x.findings.map((f) => f.kind).sort().join(",")}|${x.status}`;

describe("relinearising a witness's trace (sameTraceFewerSwitches)", () => {
  const sameTrace = (arb: fc.Arbitrary<Instr[][]>, runs: number, seed: number) =>
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 2 ** 30 }), (prog, walkSeed) => {
        const m = programModel(prog) as Model<unknown>;
        const walk = new Walk(new Prng(walkSeed));
        const x = new Execution(m, walk, 200).run();
        const order = sameTraceFewerSwitches(x);
        const follow = new Follow(order, walk.byThread);
        const y = new Execution(m, follow, 200).run();
        // Every planned step could run when planned, and the trace (hence the outcome) is x's.
        expect(y.stepThread).toEqual(order);
        expect(traceKey(y, follow.ch)).toBe(traceKey(x, walk.ch));
        expect(outcome(y)).toBe(outcome(x));
        // The plan runner (which takes a waiting step as soon as it can) follows it exactly too.
        const z = runPlan(m, { threads: order, choices: walk.byThread }, 200).x;
        expect(z.stepThread).toEqual(order);
        expect(outcome(z)).toBe(outcome(x));
      }),
      { numRuns: runs, seed },
    );
  it("multi-object steps, blocking through another object, choose(): same trace", () => sameTrace(multiProgramArb, 300, 20261205), 60_000);
  it("commutative updates: same trace", () => sameTrace(updateProgramArb, 200, 20261206), 60_000);
  it("blocking primitives (locks, completions, semaphores, wait queues): same trace", () => sameTrace(blockingProgramArb, 300, 20261207), 60_000);
  it("spawned threads and findings that end the execution: same trace", () => sameTrace(spawnProgramArb(true), 300, 20261208), 60_000);
  it("spawned threads that block: same trace", () => sameTrace(spawnBlockingProgramArb, 200, 20261209), 60_000);
});

/** A sees every value 1..n of x in order only if it and W alternate 2n - 1 times (the last switch, after W ends, is free); C is noise. */
const alternation = (n: number) =>
  model(`alternate ${n}`, () => {
    const x = new SharedVar("x", 0), y = new SharedVar("y", 0);
    return {
      threads: {
        W: function* () { for (let i = 1; i <= n; i++) yield* x.write(i); },
        R: function* () {
          let seen = 0;
          for (let i = 1; i <= n; i++) if ((yield* x.read()) === i) seen++;
          if (seen === n) finding("saw-all", `R saw 1..${n} in order`);
        },
        C: function* () { for (let i = 0; i < 2 * n; i++) yield* y.write(i); },
      },
    };
  });

describe("witness minimisation beyond preemption bounding", () => {
  it("takes a random walk's witness down to the minimum (2n - 2 = 10 preemptions for n = 6)", () => {
    const r = check({ title: "alternate", model: alternation(6), predicate: (e) => e.has("saw-all"), expect: "Never", search: { strategy: "random", runs: 20_000, seed: 3 } });
    expect(r.pass).toBe(false);
    expect(r.witness!.minimisation).toMatch(/^block moves: (\d+),/);
    const from = Number(/^block moves: (\d+)/.exec(r.witness!.minimisation)![1]);
    expect(from).toBeGreaterThan(10);
    expect(r.witness!.preemptions).toBe(10);
  });

  it("leaves a witness that bounding can reach to bounding alone", () => {
    const r = check({ title: "alternate", model: alternation(2), predicate: (e) => e.has("saw-all"), expect: "Never", search: { strategy: "random", runs: 2_000, seed: 3 } });
    expect(r.pass).toBe(false);
    expect(r.witness!.preemptions).toBe(2);
    expect(r.witness!.minimisation).toMatch(/^preemption bounding: minimum is 2/);
  });
});
