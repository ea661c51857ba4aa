// Stateful search soundness: on random small programs (locks, rwsems, completions, semaphores,
// wait queues, choose(), spawn(), findings that end the execution, deadlocks, multi-object steps)
// the stateful strategy reaches exactly the terminal outcomes naive DFS reaches (final state,
// findings, status), so every predicate over them gets the same verdict. And the test of the
// test: deliberate mutations of stateful.ts (findings left out of the state key, spawns treated as
// independent) are caught, by a small program only the broken version gets wrong. Godefroid's
// revisit rule is off: the header of stateful.ts proves that stopping at a revisit loses no state
// of an acyclic state graph, and a property below checks it against the rule.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { check, choose, finding, model, Mutex, Obj, search, SharedVar, step, type ExecutionView } from "../../lib/explorer/index.ts";
import type { Execution } from "../../lib/explorer/execution.ts";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreStateful, mutations } from "../../lib/explorer/stateful.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { gateProgramArb, multiProgramArb, outcomesBy, programArb, programModel, spawnBlockingProgramArb, statefulProgramArb, stepsOf, updateProgramArb, type Instr } from "./programs.ts";

/** T1 learns x through its step's run(), not its result; takes the same next step (z) whatever it learnt; then acts on it. */
function* closureReader(x: SharedVar<number>, y: SharedVar<number>, z: SharedVar<number>) {
  let seen = 0;
  yield* step("read x", { obj: x, kind: "read", mode: "r", run: () => { seen = x.peek(); } });
  yield* z.write(1);
  if (seen === 1) yield* y.write(1);
}

/** Status, final state and findings (kind, thread, message): everything a predicate may read of a merged state. */
const outcomeKey = (x: Execution): string =>
  `${x.status}|${JSON.stringify(x.final)}|${x.findings.map((f) => `${f.kind}:${f.thread ?? ""}:${f.message}`).sort().join(",")}`;
const outcomes = (m: Model<unknown>, explore: Explore, limit: number) => outcomesBy(m, explore, limit, outcomeKey);

/** States the stateful search stores (visited plus terminal). */
const states = (m: Model<unknown>): number => {
  const r = exploreStateful({ model: m, config: {}, maxSteps: 200, visit: () => true, outOfBudget: () => false, ran() {} });
  return r.coverage.kind === "exhaustive" ? (r.coverage.states ?? -1) : -1;
};

const agrees = (m: Model<unknown>): void => {
  const dfs = outcomes(m, exploreDfs, 5_000);
  if (!dfs.complete) return;
  const st = outcomes(m, exploreStateful, 30_000);
  expect(st.complete).toBe(true);
  expect([...st.set].sort()).toEqual([...dfs.set].sort());
};

// Every mutation back off after each test, including one that failed midway: vitest runs this file
// in a worker it shares with other files (vitest.config.ts), so a mutation left on would reach them.
afterEach(() => {
  for (const k of Object.keys(mutations) as (keyof typeof mutations)[]) mutations[k] = false;
});

describe("stateful search soundness (property)", () => {
  const prop = (arb: typeof programArb, runs: number, seed: number): void =>
    fc.assert(
      fc.property(arb, (prog) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        agrees(programModel(prog) as Model<unknown>);
      }),
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? runs), seed: Number(process.env.EXPLORER_PROP_SEED ?? seed) },
    );

  it("terminal outcomes == DFS", () => prop(programArb, 150, 20261203), 180_000);
  it("with multi-object steps and blocking through another object's step: == DFS", () => prop(multiProgramArb, 150, 20261204), 180_000);
  it("with findings that do not end the execution: == DFS", () => prop(statefulProgramArb, 150, 20261205), 180_000);
  it("with commutative updates (mode \"u\": sleep sets keep an update asleep across another): == DFS", () => prop(updateProgramArb, 60, 20261206), 180_000);
  // Spawned threads blocking on objects other threads enable, spawners whose order of spawns
  // depends on a value read: the order of spawns, hence a spawned thread's index, differs between
  // executions that meet in one state.
  it("with spawn() mixed with blocking steps, spawns in value-dependent order: == DFS", () => prop(spawnBlockingProgramArb, 100, 20261213), 180_000);
  // The shape that lost outcomes under source-DPOR until its sleep-set-blocked runs race-checked
  // their blocked threads (dpor-soundness.test.ts): sleep sets here meet it too.
  it("three threads around the gate's conditional opener: == DFS", () => prop(gateProgramArb, 600, 777), 180_000);

  // Sleep sets prune transitions, never states (the header of stateful.ts): the search visits as
  // many states as plain state caching does.
  it("visits every state that plain state caching (no sleep sets) visits", () => {
    fc.assert(
      fc.property(statefulProgramArb, (prog) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        const m = programModel(prog) as Model<unknown>;
        const withSleep = states(m);
        mutations.noSleepSets = true;
        const without = states(m);
        mutations.noSleepSets = false;
        expect(withSleep).toBe(without);
      }),
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? 100), seed: Number(process.env.EXPLORER_PROP_SEED ?? 20261207) },
    );
  }, 180_000);

  // The proof in stateful.ts's header: with the state graph acyclic, a state found in the table
  // has finished its exploration, so Godefroid's revisit rule adds transitions, never a state.
  it("stopping at a revisit stores the same states as Godefroid's revisit rule, with the same outcomes", () => {
    fc.assert(
      fc.property(fc.oneof(statefulProgramArb, multiProgramArb), (prog) => {
        fc.pre(prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        const m = programModel(prog) as Model<unknown>;
        const without = { states: states(m), outcomes: [...outcomes(m, exploreStateful, 30_000).set].sort() };
        mutations.revisit = true;
        const withRule = { states: states(m), outcomes: [...outcomes(m, exploreStateful, 30_000).set].sort() };
        mutations.revisit = false;
        expect(without).toEqual(withRule);
      }),
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? 150), seed: Number(process.env.EXPLORER_PROP_SEED ?? 20261208) },
    );
  }, 180_000);

  // Snapshot backtracking needs all shared state in objects: the programs' register file is plain
  // JS state (and spawn names come from a shared counter), so these runs leave spawn out and
  // the final state is the variables only.
  it("snapshot backtracking (search.snapshots): == DFS", () =>
    fc.assert(
      fc.property(statefulProgramArb, (prog) => {
        fc.pre(!JSON.stringify(prog).includes('"spawn"') && prog.reduce((n, t) => n + stepsOf(t), 0) <= Number(process.env.EXPLORER_PROP_STEPS ?? 12));
        const base = programModel(prog);
        const m = model("random program, variables only", () => {
          const inst = base.setup();
          return { threads: inst.threads, final: () => ({ vars: inst.final?.().vars }) };
        }) as Model<unknown>;
        const dfs = outcomes(m, exploreDfs, 5_000);
        if (!dfs.complete) return;
        const snap = outcomesBy(m, (ctx) => exploreStateful({ ...ctx, config: { snapshots: true, resultsOnly: true } }), 30_000, outcomeKey);
        expect(snap.complete).toBe(true);
        expect([...snap.set].sort()).toEqual([...dfs.set].sort());
      }),
      { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? 150), seed: Number(process.env.EXPLORER_PROP_SEED ?? 20261206) },
    ), 180_000);
});

describe("the soundness property catches a broken stateful search (test of the test)", () => {
  // Each program below is the one fast-check shrank to when the mutation was switched on.
  const outcomeSets = (prog: Instr[][]) => {
    const m = programModel(prog) as Model<unknown>;
    return { dfs: [...outcomes(m, exploreDfs, 5_000).set].sort(), stateful: [...outcomes(m, exploreStateful, 5_000).set].sort() };
  };

  it("findings left out of the state key: a non-ending finding is merged away", () => {
    // T0 warns iff it reads y == 0; T1's step writes y. Once T0 is finished, the warning is the only trace of what it read.
    const prog: Instr[][] = [[{ k: "warn", v: 1 }], [{ k: "mv", a: 0, b: 1, ma: "r", mb: "w" }, { k: "warn", v: 0 }]];
    const good = outcomeSets(prog);
    expect(good.stateful).toEqual(good.dfs);
    mutations.noFindingsInKey = true;
    const bad = outcomeSets(prog);
    expect(bad.stateful).not.toEqual(bad.dfs);
    expect(bad.stateful.length).toBeLessThan(bad.dfs.length);
  });

  it("spawns treated as independent: the other spawn order (thread numbering) is lost", () => {
    const prog: Instr[][] = [[{ k: "spawn", body: [{ k: "gate", v: 0 }] }], [{ k: "spawn", body: [{ k: "gate", v: 0 }] }]];
    const good = outcomeSets(prog);
    expect(good.stateful).toEqual(good.dfs);
    mutations.globalByFootprint = true;
    const bad = outcomeSets(prog);
    expect(bad.stateful.length).toBeLessThan(bad.dfs.length);
  });

  it("a predicate over a finding: Sometimes under DFS and stateful, not under the mutant", () => {
    const m = model("warn race", () => {
      const x = new SharedVar("x", 0);
      return {
        threads: {
          A: function* () { if ((yield* x.read()) === 0) finding("warn", "A read 0"); },
          B: function* () { yield* x.write(1); },
        },
      };
    });
    const spec = (strategy: "dfs" | "stateful") => ({ title: "warns", model: m, predicate: (e: ExecutionView) => e.has("warn"), expect: "Sometimes" as const, search: { strategy } });
    expect(check(spec("dfs")).observed).toBe("Sometimes");
    expect(check(spec("stateful")).observed).toBe("Sometimes");
    mutations.noFindingsInKey = true;
    expect(check(spec("stateful")).observed).not.toBe("Sometimes");
  });
});

describe("stateful strategy refuses what a merged state cannot give", () => {
  const counter = model("counter", () => {
    const x = new SharedVar("x", 0);
    const m = new Mutex("m");
    const inc = function* () { yield* m.lock(); const v = yield* x.read(); yield* x.write(v + 1); yield* m.unlock(); };
    return { threads: { A: inc, B: inc }, final: () => ({ x: x.peek() }) };
  });

  it("decides a claim, with states in its coverage", () => {
    const r = check({ title: "no lost update", model: counter, predicate: (e) => e.final.x !== 2, expect: "Never", search: { strategy: "stateful" } });
    expect(r.observed).toBe("Never");
    expect(r.coverage).toMatchObject({ kind: "exhaustive", reduction: "state caching + sleep sets" });
    expect(r.message).toMatch(/state caching \+ sleep sets, \d+ states/);
  });

  it("a value handed over outside the result: a run() that writes its thread's variable is keyed by what the step could read", () => {
    const m = model("closure read", () => {
      const x = new SharedVar("x", 0), y = new SharedVar("y", 0), z = new SharedVar("z", 0);
      return { threads: { T1: () => closureReader(x, y, z), T2: () => x.write(1) }, final: () => ({ y: y.peek() }) };
    });
    const verdict = (search: { strategy: "dfs" | "stateful"; resultsOnly?: boolean }) =>
      check({ title: "y ends 1", model: m, predicate: (e) => e.final.y === 1, expect: "Sometimes", search }).observed;
    expect(verdict({ strategy: "dfs" })).toBe("Sometimes");
    expect(verdict({ strategy: "stateful" })).toBe("Sometimes");
    // The promise broken: keyed by results only, T2-then-T1 reaches the key of T1-then-T2 (x = 1, T1
    // after one result `undefined`) and merges into it, and y = 1 is never seen (until December 2026
    // this was the strategy's only behaviour).
    expect(verdict({ strategy: "stateful", resultsOnly: true })).toBe("Never");
    expect(() => check({ title: "y", model: m, predicate: () => false, expect: "Never", search: { strategy: "stateful", snapshots: true } })).toThrow(/needs the model's promise search\.resultsOnly: true/);
  });

  it("e.steps and a finding's step throw ExplorerError, naming what to use", () => {
    expect(() => check({ title: "steps", model: counter, predicate: (e) => e.steps > 3, expect: "Never", search: { strategy: "stateful" } })).toThrow(/e\.steps.*strategy: "dpor"/s);
  });

  it("an object without stateKey() is refused, naming object, class and model", () => {
    class Box extends Obj { constructor() { super("box", "b0"); } touch() { return this.access<void>("touch", "w"); } }
    const m = model("boxed", () => { const b = new Box(); return { threads: { A: function* () { yield* b.touch(); } } }; });
    expect(() => check({ title: "box", model: m, predicate: () => false, expect: "Never", search: { strategy: "stateful" } })).toThrow(/model "boxed", but box "b0" \(class Box\) has none/);
  });

  it("a value without a key returned into a thread is refused", () => {
    class Thing { constructor(readonly n: number) {} }
    const m = model("things", () => { const v = new SharedVar("v", new Thing(1)); return { threads: { A: function* () { yield* v.read(); } } }; });
    expect(() => check({ title: "thing", model: m, predicate: () => false, expect: "Never", search: { strategy: "stateful" } })).toThrow(/instance of Thing without a stateKey/);
  });

  it("choose() values are part of a thread's state", () => {
    const m = model("coin", () => {
      const x = new SharedVar("x", 0);
      return { threads: { A: function* () { const c = yield* choose("coin", 3); yield* x.write(c); } }, final: () => ({ x: x.peek() }) };
    });
    const r = search({ title: "coin", model: m, predicate: (e) => e.final.x === 2, expect: "Sometimes", search: { strategy: "stateful" } }, { stopEarly: false });
    expect(r.counts).toEqual({ true: 1, false: 2 });
  });

  it("snapshot backtracking refuses a thread fed into a different world, and objects without snapshot()", () => {
    const peeky = model("peeky", () => {
      const x = new SharedVar("x", 0);
      return {
        threads: {
          // Reads x with peek() between steps: a hidden scheduling point that a re-fed generator sees differently.
          A: function* () { yield* step("a"); if (x.peek() === 0) yield* x.write(5); else yield* step("b"); },
          B: function* () { yield* x.write(1); },
          C: function* () { yield* step("c"); },
        },
        final: () => ({ x: x.peek() }),
      };
    });
    expect(() => check({ title: "peek", model: peeky, predicate: () => false, expect: "Never", search: { strategy: "stateful", snapshots: true, resultsOnly: true } })).toThrow(/did not come back to its write step/);
    class Keyed extends Obj { constructor() { super("k", "k0"); } stateKey() { return 0; } touch() { return this.access<void>("touch", "w"); } }
    const m = model("keyed", () => { const k = new Keyed(); return { threads: { A: function* () { yield* k.touch(); }, B: function* () { yield* k.touch(); } } }; });
    expect(() => check({ title: "k", model: m, predicate: () => false, expect: "Never", search: { strategy: "stateful", snapshots: true, resultsOnly: true } })).toThrow(/snapshot\(\) and restore\(\).*k "k0" \(class Keyed\)/);
  });

  it("a spin loop never repeats a state (histories grow): it is cut at maxSteps, no Never", () => {
    const m = model("spin", () => {
      const x = new SharedVar("x", 0);
      return { threads: { A: function* () { while ((yield* x.read()) === 0) yield* step("pause"); }, B: function* () { yield* x.write(1); } } };
    });
    const r = check({ title: "spin", model: m, predicate: () => false, expect: "Never", search: { strategy: "stateful", maxSteps: 200 } });
    expect(r.observed).toBe("Incomplete");
    expect(r.message).toMatch(/reached the step bound \(200 steps\)/);
  });
});
