// Semantics of the instrumented objects, and cross-checks between strategies.
import { describe, expect, it } from "vitest";
import { check, model, RwSem, search, Semaphore, SharedVar, WaitQueue, Completion, finding } from "../../lib/explorer/index.ts";
import { counter } from "../../bench/explorer-models.ts";

describe("objects", () => {
  it("RwSem: two readers can overlap, a writer never overlaps anyone", () => {
    const m = model("rwsem", () => {
      const s = new RwSem("mmap_sem");
      const inside = new SharedVar("inside", 0);
      const reader = function* () {
        yield* s.readLock();
        const n = yield* inside.update((v) => v + 1);
        if (n >= 1) finding("readers-overlap", "two readers inside");
        yield* inside.update((v) => v - 1);
        yield* s.readUnlock();
      };
      const writer = function* () {
        yield* s.writeLock();
        if ((yield* inside.read()) !== 0) finding("writer-overlap", "writer with readers");
        yield* s.writeUnlock();
      };
      return { threads: { R1: reader, R2: reader, W: writer } };
    });
    expect(check({ title: "r", model: m, predicate: (e) => e.has("readers-overlap"), expect: "Sometimes" }).pass).toBe(true);
    expect(check({ title: "w", model: m, predicate: (e) => e.has("writer-overlap"), expect: "Never" }).pass).toBe(true);
  });

  it("WaitQueue: checking the condition inside waitEvent never loses the wakeup; checking outside can", () => {
    const mk = (racy: boolean) =>
      model(racy ? "lost wakeup" : "wait_event", () => {
        const wq = new WaitQueue("wq");
        const cond = new SharedVar("cond", false);
        return {
          threads: {
            Waiter: function* () {
              if (racy) {
                // check, then sleep unconditionally: the classic lost wake-up
                if (!(yield* cond.read())) yield* wq.waitEvent(function* () { return false; });
              } else yield* wq.waitEvent(function* () { return yield* cond.read(); });
            },
            Waker: function* () { yield* cond.write(true); yield* wq.wake(); },
          },
        };
      });
    expect(check({ title: "ok", model: mk(false), predicate: (e) => e.has("deadlock"), expect: "Never" }).pass).toBe(true);
    expect(check({ title: "lost", model: mk(true), predicate: (e) => e.has("deadlock"), expect: "Sometimes" }).pass).toBe(true);
  });

  it("Semaphore and Completion block and release", () => {
    const m = model("sem", () => {
      const s = new Semaphore("s", 0);
      const c = new Completion("c");
      const order = new SharedVar<string[]>("order", []);
      return {
        threads: {
          A: function* () { yield* s.down(); const o = yield* order.read(); yield* order.write([...o, "A"]); yield* c.complete(); },
          B: function* () { const o = yield* order.read(); yield* order.write([...o, "B"]); yield* s.up(); yield* c.wait(); },
        },
        final: () => ({ order: order.peek().join("") }),
      };
    });
    expect(check({ title: "o", model: m, predicate: (e) => e.final.order === "BA" && e.status === "finished", expect: "Always" }).pass).toBe(true);
  });
});

describe("strategies agree", () => {
  it("iterative bounding with a large bound visits every DFS execution exactly once", () => {
    for (const [n, locked] of [[3, false], [3, true], [4, true]] as const) {
      const spec = { title: "b", model: counter(n, locked), predicate: () => false, expect: "Never" as const };
      const dfs = search({ ...spec, search: "dfs" }, { stopEarly: false });
      const bounded = search({ ...spec, search: { strategy: "bounded", preemptions: 100 } }, { stopEarly: false });
      expect(bounded.stats.executions).toBe(dfs.stats.executions);
    }
  });

  it("PCT with depth 2 finds the lost update in most seeds", () => {
    let found = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const r = check({ title: "p", model: counter(2, false), predicate: (e) => e.final.x !== 2, expect: "Sometimes", search: { strategy: "pct", depth: 2, runs: 20, seed } });
      if (r.pass) found++;
    }
    expect(found).toBeGreaterThanOrEqual(8);
  });
});
