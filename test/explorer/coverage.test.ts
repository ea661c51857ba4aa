import { describe, expect, it } from "vitest";
import { check, claim, ClaimError, decide, mergeRecords, model, Mutex, search, SharedVar, spawn, Completion, choose } from "../../lib/explorer/index.ts";
import { counter, indexer } from "../../bench/explorer-models.ts";

const spin = model("spinner", () => {
  const flag = new SharedVar("flag", 0);
  return {
    threads: {
      Spin: function* () { while ((yield* flag.read()) === 0) { /* spin */ } },
      Setter: function* () { if (yield* choose("set?", 2)) yield* flag.write(1); },
    },
  };
});

describe("coverage and verdicts", () => {
  it("budget exhaustion -> Incomplete, never a pass for Never", () => {
    const r = check({ title: "b", model: counter(4, true), predicate: () => false, expect: "Never", search: "dfs", budget: { executions: 10 } });
    expect(r.complete).toBe(false);
    expect(r.observed).toBe("Incomplete");
    expect(r.pass).toBe(false);
    expect(r.message).toMatch(/Raise budget/);
    expect(() => claim({ title: "b", model: counter(4, true), predicate: () => false, expect: "Never", search: "dfs", budget: { executions: 10 } })).toThrow(ClaimError);
  });

  it("a budget-cut search still refutes Never with a witness", () => {
    const r = check({ title: "b", model: counter(4, false), predicate: (e) => e.final.x !== 4, expect: "Never", search: "dfs", budget: { executions: 50 } });
    expect(r.pass).toBe(false);
    expect(r.witness).toBeDefined();
  });

  it("sampled search cannot establish Never, but finds Sometimes", () => {
    for (const strategy of ["pct", "random"] as const) {
      const never = check({ title: "s", model: counter(3, true), predicate: (e) => e.final.x !== 3, expect: "Never", search: { strategy, runs: 50, seed: 7 } });
      expect(never.observed).toBe("Incomplete");
      expect(never.pass).toBe(false);
      expect(never.coverage).toMatchObject({ kind: "sampled", strategy, seed: 7 });
      const some = check({ title: "s", model: counter(3, false), predicate: (e) => e.final.x !== 3, expect: "Sometimes", search: { strategy, runs: 200, seed: 7 } });
      expect(some.observed).toBe("Sometimes");
    }
  });

  it("pct and random are reproducible from their seed", () => {
    const a = search({ title: "s", model: indexer(12), predicate: () => false, expect: "Never", search: { strategy: "pct", runs: 20, seed: 3 } });
    const b = search({ title: "s", model: indexer(12), predicate: () => false, expect: "Never", search: { strategy: "pct", runs: 20, seed: 3 } });
    expect(a.stats.steps).toBe(b.stats.steps);
  });

  it("bounded coverage shows its bound and can establish Never within it", () => {
    const r = claim({ title: "b", model: counter(3, true), predicate: (e) => e.final.x !== 3, expect: "Never", search: { strategy: "bounded", preemptions: 1 } });
    expect(r.coverage).toEqual({ kind: "bounded", preemptions: 1 });
    expect(r.message).toContain("<= 1 preemption");
    const zero = check({ title: "b", model: counter(2, false), predicate: (e) => e.final.x !== 2, expect: "Never", search: { strategy: "bounded", preemptions: 0 } });
    expect(zero.pass).toBe(true); // the race needs a preemption: bounded search errs towards missing it
  });

  it("a spinning thread is cut by the step bound as livelock", () => {
    const r = check({ title: "spin", model: spin, predicate: (e) => e.has("livelock"), expect: "Sometimes", search: { strategy: "dfs", maxSteps: 30 } });
    expect(r.pass).toBe(true);
  });

  it("spawned threads run and are explored", () => {
    const m = model("spawner", () => {
      const x = new SharedVar("x", 0);
      const done = new Completion("done");
      return {
        threads: {
          Parent: function* () {
            yield* spawn("Worker", function* () { yield* x.write(1); yield* done.complete(); });
            const v = yield* x.read();
            yield* done.wait();
            if (v === 0) yield* x.write(5);
          },
        },
        final: () => ({ x: x.peek() }),
      };
    });
    for (const strategy of ["dpor", "dfs"] as const) {
      const r = check({ title: "s", model: m, predicate: (e) => e.final.x === 5, expect: "Sometimes", search: { strategy } });
      expect(r.pass).toBe(true);
    }
  });

  it("shards: dfs merged execution counts equal the unsharded run", () => {
    const spec = { title: "sh", model: counter(4, true), predicate: (e: any) => e.final.x !== 4, expect: "Never" as const };
    const whole = search({ ...spec, search: { strategy: "dfs" } }, { stopEarly: false });
    for (const count of [2, 3, 5]) {
      const parts = Array.from({ length: count }, (_, index) => search({ ...spec, search: { strategy: "dfs", shard: { index, count } } }, { stopEarly: false }));
      expect(parts.every((p) => p.stats.executions > 0 || count > whole.stats.executions)).toBe(true);
      const merged = mergeRecords(parts);
      expect(merged.stats.executions).toBe(whole.stats.executions);
      expect(merged.complete).toBe(true);
      expect(decide(spec, merged).observed).toBe("Never");
    }
  });

  it("shards: dpor merged verdict equals the unsharded one and covers every outcome", () => {
    const spec = { title: "sh", model: counter(4, false), predicate: (e: any) => e.final.x, expect: "Sometimes" as const };
    const finals = (s?: { index: number; count: number }) => {
      const seen = new Set<number>();
      search({ ...spec, predicate: (e: any) => (seen.add(e.final.x), false), search: { strategy: "dpor", shard: s } }, { stopEarly: false });
      return seen;
    };
    const whole = finals();
    const union = new Set<number>();
    for (let index = 0; index < 3; index++) for (const v of finals({ index, count: 3 })) union.add(v);
    expect([...union].sort()).toEqual([...whole].sort());
    const parts = [0, 1].map((index) => search({ ...spec, predicate: (e: any) => e.final.x !== 4, search: { strategy: "dpor", shard: { index, count: 2 } } }, { stopEarly: false }));
    const unsharded = search({ ...spec, predicate: (e: any) => e.final.x !== 4, search: "dpor" }, { stopEarly: false });
    expect(mergeRecords(parts).stats.executions).toBeGreaterThanOrEqual(unsharded.stats.executions);
  });

  it("mergeRecords refuses a bounded or sampled record: only exhaustive searches are split", () => {
    const spec = { title: "sh", model: counter(3, false), predicate: (e: any) => e.final.x !== 3, expect: "Sometimes" as const };
    const whole = search({ ...spec, search: { strategy: "dpor" } }, { stopEarly: false });
    const bounded = search({ ...spec, search: { strategy: "bounded", preemptions: 1 } }, { stopEarly: false });
    const sampled = search({ ...spec, search: { strategy: "random", runs: 5, seed: 1 } }, { stopEarly: false });
    expect(mergeRecords([whole]).stats.executions).toBe(whole.stats.executions);
    expect(() => mergeRecords([whole, bounded])).toThrow(/not bounded records; run a bounded search whole/);
    expect(() => mergeRecords([sampled])).toThrow(/not sampled records/);
  });

  it("results are plain JSON", () => {
    const r = check({ id: "J1", title: "json", model: counter(2, false), predicate: (e) => e.final.x !== 2, expect: "Sometimes" });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it("deadlock of a lock taken twice by its owner is a one-thread cycle", () => {
    const m = model("self", () => {
      const l = new Mutex("l");
      return { threads: { A: function* () { yield* l.lock(); yield* l.lock(); } } };
    });
    const r = check({ title: "self", model: m, predicate: (e) => e.has("deadlock"), expect: "Always" });
    expect(r.pass).toBe(true);
  });
});

describe("messages", () => {
  it("a Sometimes claim that is Never/Always says so without a fake counterexample", () => {
    const r = check({ title: "m", model: counter(2, true), predicate: (e) => e.final.x === 2, expect: "Sometimes" });
    expect(r.observed).toBe("Always");
    expect(r.witness).toBeUndefined();
    expect(r.message).toContain("true in every execution");
  });
});

describe("config validation", () => {
  it("rejects bad options with the fix", () => {
    const base = { title: "v", model: counter(2, true), predicate: () => false, expect: "Never" as const };
    expect(() => check({ ...base, search: { strategy: "pct", shard: { index: 0, count: 2 } } })).toThrow(/shard is only supported/);
    expect(() => check({ ...base, search: { strategy: "dfs", shard: { index: 2, count: 2 } } })).toThrow(/0 <= index < count/);
    expect(() => check({ ...base, search: { strategy: "bounded", preemptions: -1 } })).toThrow(/non-negative/);
    expect(() => check({ ...base, search: { strategy: "nope" as never } })).toThrow(/Unknown search strategy/);
  });
});

describe("shards alone", () => {
  it("a single shard never establishes Never, and says how to merge", () => {
    const r = check({ title: "s", model: counter(3, true), predicate: (e) => e.final.x !== 3, expect: "Never", search: { strategy: "dfs", shard: { index: 0, count: 2 } } });
    expect(r.observed).toBe("Incomplete");
    expect(r.message).toContain("mergeRecords");
  });
});

describe("a thread that never finishes", () => {
  const spinner = () => model("spinner", () => {
    const x = new SharedVar("x", 0);
    return { threads: { A: function* () { for (;;) yield* x.write(1); } } };
  });

  it("is a livelock when every execution reaches the step bound, never a budget to raise", () => {
    const r = check({ title: "spin", model: spinner(), predicate: () => false, expect: "Never", search: { maxSteps: 50 } });
    expect(r.observed).toBe("Incomplete");
    expect(r.message).toMatch(/Livelock: every execution reached the step bound \(50 steps\) in thread "A" at write\(x\)/);
    expect(r.message).not.toMatch(/Raise budget/);
  });

  it("a predicate can still refute Never on executions cut by the bound", () => {
    const r = check({ title: "spin", model: spinner(), predicate: (e) => e.has("livelock"), expect: "Never", search: { maxSteps: 50 } });
    expect(r.observed).toBe("Incomplete");
    expect(r.witness).toBeDefined();
  });
});

describe("an execution cut at the step bound", () => {
  it("keeps Never from being established even when other executions finish", () => {
    const m = model("sometimes spins", () => {
      const x = new SharedVar("x", 0);
      return {
        threads: {
          A: function* () { if (yield* choose("spin?", 2)) for (;;) yield* x.write(1); },
        },
      };
    });
    const r = check({ title: "cut", model: m, predicate: () => false, expect: "Never", search: { maxSteps: 40 } });
    expect(r.observed).toBe("Incomplete");
    expect(r.message).toMatch(/1 of 2 execution\(s\) reached the step bound \(40 steps\).*Never cannot be established/);
  });
});
