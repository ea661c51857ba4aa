// Work stealing (steal.ts) against naive DFS: on random small programs (blocking, choose(),
// spawn, findings that end the execution) and on programs whose bug is reachable in exactly one
// trace, the stolen search reaches exactly the final states and finding kinds DFS reaches,
// whatever the steal schedule: several simulated workers stepped in a random order, splits
// asked at random points, and every worker's messages delivered to the coordinator late
// (FIFO per worker, at random times), as with worker threads.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { choose, finding, model, Mutex, SharedVar } from "../../lib/explorer/index.ts";
import type { Execution } from "../../lib/explorer/execution.ts";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreDpor } from "../../lib/explorer/dpor.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { Prng } from "../../lib/explorer/prng.ts";
import type { Explore, SearchContext } from "../../lib/explorer/search.ts";
import { StealCoordinator, SubtreeSearch } from "../../lib/explorer/steal.ts";
import { ctxFor, stolen } from "./steal-driver.ts";
import { exploreDporShard } from "../../lib/explorer/steal-shard.ts";
import { awaitProgramArb, latchProgramArb, gateProgramArb, multiProgramArb, programArb, programModel, sectionProgramArb, stepsOf, updateProgramArb } from "./programs.ts";

const key = (x: Execution) => JSON.stringify(x.final) + "|" + [...new Set(x.findings.map((f) => f.kind))].sort().join(",");

function outcomes(m: Model<unknown>, explore: Explore, limit: number) {
  const set = new Set<string>(), count = { executions: 0 };
  const r = explore(ctxFor(m, key, set, count, limit));
  return { set, executions: count.executions, complete: r.complete };
}


describe("work-stealing DPOR soundness (property)", () => {
  // Both generators: single-object steps, and steps whose footprints span several objects (the
  // multi-object steps of dpor.ts), so work stealing is checked with every dependency DPOR knows.
  it.each([["single-object", programArb], ["multi-object", multiProgramArb], ["commutative-update", updateProgramArb], ["gate-opener (three threads)", gateProgramArb], ["one-step critical section (blocking read)", sectionProgramArb], ["wait enabled by updates (blocking read)", awaitProgramArb], ["latch (a wait that only waits)", latchProgramArb, 3]] as [string, typeof programArb, number?][])("stolen search final states and findings == DFS, under random steal schedules (%s steps)", (_kind, arb, runsTimes = 1) => {
    let totalSplits = 0, totalUnits = 0;
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 2, max: 4 }), (prog, seed, workers) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        const m = programModel(prog) as Model<unknown>;
        const dfs = outcomes(m, exploreDfs, 5_000);
        fc.pre(dfs.complete);
        const st = stolen(m, key, seed, workers);
        totalSplits += st.splits;
        totalUnits += st.units;
        expect(st.complete).toBe(true);
        expect([...st.set].sort()).toEqual([...dfs.set].sort());
        // Units are disjoint subtrees of the one decision tree: never more executions than DFS.
        expect(st.executions).toBeLessThanOrEqual(dfs.executions);
      }),
      // Latches leave small searches (the fewest splits): three times the programs.
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? 150) * runsTimes, seed: Number(process.env.EXPLORER_PROP_SEED ?? 20261203) },
    );
    // The property is only worth something if subtrees were really stolen.
    expect(totalSplits).toBeGreaterThan(40);
    expect(totalUnits).toBeGreaterThan(200);
  }, 240_000);

  it("static shards (steal-shard.ts): the union of every shard's outcomes == DFS", () => {
    fc.assert(
      fc.property(programArb, fc.integer({ min: 2, max: 4 }), (prog, count) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        const m = programModel(prog) as Model<unknown>;
        const dfs = outcomes(m, exploreDfs, 5_000);
        fc.pre(dfs.complete);
        const union = new Set<string>();
        for (let index = 0; index < count; index++) {
          const part = outcomes(m, exploreDporShard({ index, count }), 30_000);
          expect(part.complete).toBe(true);
          for (const k of part.set) union.add(k);
        }
        expect([...union].sort()).toEqual([...dfs.set].sort());
      }),
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? 100), seed: Number(process.env.EXPLORER_PROP_SEED ?? 20261203) },
    );
  }, 240_000);

  // A bug reachable in exactly one Mazurkiewicz trace: x must be chosen 2 and written before B
  // reads it, B's write must come before C's read, and C must take the lock after D released it.
  const oneTrace = model("one-trace bug", () => {
    const x = new SharedVar("x", 0), y = new SharedVar("y", 0), z = new SharedVar("z", 0), m = new Mutex("m");
    return {
      threads: {
        A: function* () {
          yield* x.write(yield* choose("x", 3));
        },
        B: function* () {
          if ((yield* x.read()) === 2) yield* y.write(1);
        },
        C: function* () {
          yield* m.lock();
          const seen = yield* z.read();
          if ((yield* y.read()) === 1 && seen === 1) finding("bug", "the one trace");
          yield* m.unlock();
        },
        D: function* () {
          yield* m.lock();
          yield* z.write(1);
          yield* m.unlock();
        },
      },
      final: () => ({ x: x.peek(), y: y.peek(), z: z.peek() }),
    };
  }) as Model<unknown>;

  it("finds a bug reachable in exactly one trace, under every schedule tried", () => {
    const dfs = outcomes(oneTrace, exploreDfs, 100_000);
    const bugs = (s: Set<string>) => [...s].filter((k) => k.endsWith("|bug"));
    expect(bugs(dfs.set)).toHaveLength(1);
    const seq = outcomes(oneTrace, exploreDpor, 100_000);
    expect([...seq.set].sort()).toEqual([...dfs.set].sort());
    let splits = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const st = stolen(oneTrace, key, seed, 2 + (seed % 3));
      splits += st.splits;
      expect([...st.set].sort()).toEqual([...dfs.set].sort());
      expect(bugs(st.set)).toHaveLength(1);
      expect(st.executions).toBeLessThanOrEqual(dfs.executions);
    }
    expect(splits).toBeGreaterThan(20);
    for (const count of [2, 3, 5]) {
      const union = new Set<string>();
      for (let index = 0; index < count; index++) for (const k of outcomes(oneTrace, exploreDporShard({ index, count }), 100_000).set) union.add(k);
      expect([...union].sort()).toEqual([...dfs.set].sort());
    }
  });

  // A sibling whose step ends the execution must not sleep below the node (dpor.ts `stops`):
  // T1 reads x = 1 and stops the execution at once, so the trace "T2 writes z, then T1 stops"
  // exists only below T2. A split that hands out T1 and T2 together must know T1 stops before
  // T2's unit starts (steal.ts probeStep), or T2's unit keeps T1 asleep and loses that outcome.
  const stopper = model("stopper", () => {
    const x = new SharedVar("x", 1), y = new SharedVar("y", 0), z = new SharedVar("z", 0);
    return {
      threads: {
        T0: function* () { yield* y.write(1); },
        T1: function* () { if ((yield* x.read()) === 1) finding("fatal", "T1 read 1", undefined, { end: true }); },
        T2: function* () { yield* z.write(1); },
      },
      final: () => ({ y: y.peek(), z: z.peek() }),
    };
  }) as Model<unknown>;
  // The same where T1 ends the execution only for one of the choose() values it takes right after
  // its read: whether a step stops then depends on those values too, so one run (the first value)
  // does not tell, and T1's stop bit stays unknown until all of them have run.
  const chooser = model("chooser", () => {
    const x = new SharedVar("x", 1), y = new SharedVar("y", 0), z = new SharedVar("z", 0);
    return {
      threads: {
        T0: function* () { yield* y.write(1); },
        T1: function* () { const v = yield* x.read(); if ((yield* choose("stop?", 2)) === 1 && v === 1) finding("fatal", "T1 chose to stop", undefined, { end: true }); },
        T2: function* () { yield* z.write(1); },
      },
      final: () => ({ y: y.peek(), z: z.peek() }),
    };
  }) as Model<unknown>;
  // And the worker's own thread at the node it keeps (found by a review): A's read, then a choose()
  // whose second value stops; its stop bit is not final before that value has run.
  const ownStop = model("own stop", () => {
    const x = new SharedVar("x", 0), z = new SharedVar("z", 0);
    let r = -1;
    return {
      threads: {
        A: function* () { r = yield* x.read(); if ((yield* choose("stop?", 2)) === 1) finding("fatal", "A chose to stop", undefined, { end: true }); },
        B: function* () { yield* z.write(1); },
        C: function* () { yield* x.write(1); },
      },
      final: () => ({ x: x.peek(), z: z.peek(), r }),
    };
  }) as Model<unknown>;
  it.each([
    ["a step that ends it", stopper, { y: 0, z: 1 }],
    ["a step that ends it for one choose() value after it", chooser, { y: 0, z: 1 }],
    ["the kept thread's step, for one choose() value after it", ownStop, { x: 0, z: 1, r: 0 }],
  ] as const)("a sibling handed out by a split whose step ends the execution is not passed down asleep (%s)", (_what, m, lost) => {
    const dfs = outcomes(m, exploreDfs, 100_000);
    expect(dfs.set.has(JSON.stringify(lost) + "|fatal")).toBe(true);
    let splits = 0;
    for (let seed = 1; seed <= 60; seed++) {
      for (const defer of [true, false]) {
        const st = stolen(m, key, seed, 2 + (seed % 2), { defer });
        splits += st.splits;
        expect([...st.set].sort(), `steal schedule ${seed}`).toEqual([...dfs.set].sort());
      }
    }
    expect(splits).toBeGreaterThan(10);
  });

  // The coordinator's deferral (steal.ts): a unit whose root would keep a sibling asleep whose stop
  // bit nobody knows yet waits for that sibling's first execution instead of leaving it out of
  // every sleep set below (correct either way; the deferral only keeps the sequential search's
  // sleep sets). Without deferral (the static shards) it starts at once with the sibling not
  // passed down.
  it("a unit waits for an earlier sibling's stop bit, and is released by its report", () => {
    const split = (c: StealCoordinator) => {
      c.take();
      c.receive({ kind: "split", unit: 0, init: [], path: [], oldRootStops: false, nodes: [{ thread: 0, enabled: 0b111, sleep: 0, backtrack: 0b001, stops: 0, known: true, probed: 0, probedStops: 0, inherited: 0, foot: [] }] });
      c.receive({ kind: "add", unit: 0, depth: 0, threads: 0b010, exact: true });
      c.receive({ kind: "add", unit: 0, depth: 0, threads: 0b100, exact: true });
    };
    const c = new StealCoordinator(true);
    split(c);
    expect(c.queued).toBe(2);
    const u1 = c.take()!;
    expect([u1.thread, u1.sleep, u1.stops]).toEqual([1, 0b001, 0]);
    expect(c.take()).toBeUndefined(); // T2 waits: T1, asleep at its root, has not run yet
    c.receive({ kind: "root", unit: u1.id, stops: false });
    const u2 = c.take()!;
    expect([u2.thread, u2.sleep, u2.stops]).toEqual([2, 0b011, 0]); // T1 does not stop: passed down
    expect(c.queued).toBe(0);
    const eager = new StealCoordinator(false);
    split(eager);
    eager.take();
    const e2 = eager.take()!;
    expect([e2.thread, e2.sleep, e2.stops]).toEqual([2, 0b011, 0b010]); // T1 unknown: not passed down
  });

  it("one worker that is never asked to split is the sequential search", () => {
    const prog = [[{ k: "inc" as const, v: 0 }], [{ k: "inc" as const, v: 0 }], [{ k: "cw" as const, v: 0 }, { k: "r" as const, v: 1 }]];
    const m = programModel(prog) as Model<unknown>;
    const seq = outcomes(m, exploreDpor, 100_000);
    const coord = new StealCoordinator();
    const set = new Set<string>(), count = { executions: 0 };
    const unit = coord.take()!;
    const r = new SubtreeSearch(m, unit, 200, (msg) => coord.receive(msg)).explore(ctxFor(m, key, set, count, 100_000));
    expect(r.complete).toBe(true);
    expect(count.executions).toBe(seq.executions);
    expect(coord.take()).toBeUndefined();
  });
});
