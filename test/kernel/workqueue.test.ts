// A work item is three explorer objects (lib/kernel/workqueue.ts Work): its PENDING bit, whether
// a worker executes it (Work.executing) and its count of unfinished executions, which is all a
// flush reads and waits on. DPOR
// must reach the SET of outcomes naive DFS reaches on generated programs of queue_work,
// flush_work, flush_workqueue, cancel_work_sync and work_pending, and the planted `work-done-count-unnamed`
// (the "done" step changes the count without naming it) must lose one, or the comparison could
// not fail. Written first, this test found that flush_workqueue walked the queue's list of items
// in thread code, between steps: seed 18 (T0[flush a, queue a] T1[flush a, flush wq]) lost the
// outcome where the walk sees the item queued after T1's first flush. The walk is a step now.
import { describe, expect, it } from "vitest";
import { check, claim, model, Obj, SharedVar } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { Prng } from "../../lib/explorer/prng.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW } from "../../lib/kernel/era.ts";
import type { PlantedBug } from "../../lib/kernel/planted.ts";
import { alloc_workqueue, cancel_work_sync, flush_work, flush_workqueue, init_work, queue_work, work_pending, type Work, type Workqueue } from "../../lib/kernel/workqueue.ts";
import { outcomes, type Program } from "./outcome-set.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;
interface World {
  readonly wq: Workqueue;
  readonly a: Work;
  readonly b: Work;
  /** What the work functions did, in the order they did it. */
  readonly log: SharedVar<string>;
  readonly k: ReturnType<typeof boot>;
}
type Op = (w: World, out: unknown[]) => Gen<void>;

/** Each op records what it returned and, after a flush, what the log says (a flush's promise). */
const OPS: [string, Op][] = [
  ["queue a", function* (w, out) { out.push(yield* queue_work(w.k, w.wq, w.a)); }],
  ["queue b", function* (w, out) { out.push(yield* queue_work(w.k, w.wq, w.b)); }],
  ["flush a", function* (w, out) { out.push(yield* flush_work(w.k, w.a), yield* w.log.read()); }],
  ["flush wq", function* (w, out) { yield* flush_workqueue(w.k, w.wq); out.push(yield* w.log.read()); }],
  ["cancel a", function* (w, out) { out.push(yield* cancel_work_sync(w.k, w.a), yield* w.log.read()); }],
  ["pending a", function* (w, out) { out.push(yield* work_pending(w.a)); }],
];

// Module-level generator functions called from arrows, not generator functions made per
// execution: V8 gives each new generator closure that is called a hidden class of its own in the
// old generation, which keeps the execution's objects alive through every scavenge
// (test/explorer/programs.ts says more).
/** A work item's function: appends its name to the log. */
function* appendLog(log: SharedVar<string>, c: string): Gen<void> {
  yield* log.update((s) => s + c);
}
/** The mutant's object: a step on it reads the item's PENDING bit without naming the item. */
class Peek extends Obj {
  constructor() {
    super("test", "peek");
  }
  *pending(w: Work): Gen<boolean> {
    return yield* this.access("read", "r", { label: `peek ${w.name}.pending`, run: () => w.pending });
  }
}
function* queueOnce(k: ReturnType<typeof boot>, wq: Workqueue, a: Work): Gen<void> {
  yield* queue_work(k, wq, a);
}
function* askTwice(peek: Peek | null, a: Work, seen: boolean[]): Gen<void> {
  for (let i = 0; i < 2; i++) seen.push(peek ? yield* peek.pending(a) : yield* work_pending(a));
}
/** A thread of a generated program: its operations in turn. */
function* runOps(ops: readonly number[], w: World, out: unknown[]): Gen<void> {
  for (const o of ops) yield* OPS[o][1](w, out);
}

/** 2-3 threads of 1-2 operations; `fixed` lists each thread's op indices instead. */
function program(seed: number, planted: readonly PlantedBug[] = [], fixed?: readonly (readonly number[])[]): Program {
  const rnd = new Prng(seed);
  const threads: number[][] = fixed ? fixed.map((ops) => [...ops]) : [];
  const nt = fixed ? 0 : 2 + rnd.below(2);
  for (let t = 0; t < nt; t++) threads.push(Array.from({ length: nt === 3 ? 1 : 1 + rnd.below(2) }, () => rnd.below(OPS.length)));
  const text = `seed ${seed}: ${threads.map((ops, t) => `T${t}[${ops.map((o) => OPS[o][0]).join(", ")}]`).join(" ")}`;
  const m = model(text, () => {
    const k = boot(ENOW, { planted });
    const wq = alloc_workqueue(k, "wq");
    const log = new SharedVar("log", "");
    const a = init_work(k, "a", () => appendLog(log, "a"));
    const b = init_work(k, "b", () => appendLog(log, "b"));
    const w: World = { wq, a, b, log, k };
    const out: unknown[][] = threads.map(() => []);
    const bodies: Record<string, () => Gen<void>> = {};
    threads.forEach((ops, t) => {
      bodies[`T${t}`] = () => runOps(ops, w, out[t]);
    });
    return { threads: bodies, final: () => JSON.stringify([out, log.peek(), a.count.outstanding, b.count.outstanding]) };
  });
  return { text, model: m };
}

describe("a work item's count is its own object", () => {
  it("DPOR reaches every outcome DFS reaches on generated programs of the workqueue calls", () => {
    let dfsTotal = 0, dporTotal = 0, fieldsTotal = 0, compared = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const dfs = outcomes(program(seed), { strategy: "dfs" }, 30_000);
      if (!dfs.complete) continue;
      const dpor = outcomes(program(seed), { strategy: "dpor" });
      const fields = outcomes(program(seed), { strategy: "dpor", fields: true });
      expect(dpor.all, program(seed).text).toEqual(dfs.all);
      expect(fields.all, program(seed).text).toEqual(dfs.all);
      dfsTotal += dfs.n;
      dporTotal += dpor.n;
      fieldsTotal += fields.n;
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(40);
    console.log(`workqueue: ${compared} programs, executions DFS ${dfsTotal}, DPOR ${dporTotal}, fields ${fieldsTotal}`);
  }, 600_000);

  it("loses outcomes when the work's done step does not name the count (planted work-done-count-unnamed)", () => {
    // Queue a, then flush it, against nothing: the flush's "busy?" must be ordered against the
    // worker's done, or DPOR never sees the flush find the work already finished.
    const fixed = [[0, 2]] as const;
    const dfs = outcomes(program(0, [], fixed), { strategy: "dfs" });
    expect(outcomes(program(0, [], fixed), { strategy: "dpor" }).all).toEqual(dfs.all);
    expect(outcomes(program(0, ["work-done-count-unnamed"], fixed), { strategy: "dpor" }).all).not.toEqual(dfs.all);
  });

  // work_pending tests the item's PENDING bit alone (include/linux/workqueue.h), which the end of
  // an execution does not touch (it leaves busy_hash): Work.executing is an object of its own.
  // T queues a; P asks work_pending twice. The worker's start clears PENDING, so P sees
  // false/false, true/true, true/false (between), or false before the queue and true after.
  // DPOR must reach exactly DFS's outcomes, and the first ask must not race the worker's end.
  const pendingTwice = (peek: boolean) => model(`work_pending twice against queue_work${peek ? " (read outside the work)" : ""}`, () => {
    const k = boot(ENOW);
    const wq = alloc_workqueue(k, "wq");
    const a = init_work(k, "a", function* () {});
    const other = new Peek();
    const seen: boolean[] = [];
    return {
      threads: {
        T: () => queueOnce(k, wq, a),
        P: () => askTwice(peek ? other : null, a, seen),
      },
      final: () => seen.join(","),
    };
  });
  it("work_pending reads the PENDING bit alone: DPOR reaches DFS's outcomes, and a read of it outside the work's object loses some", () => {
    const run = (peek: boolean, strategy: "dfs" | "dpor") => {
      const finals = new Set<string>();
      const r = check({ title: "work_pending", model: pendingTwice(peek), predicate: (e) => (finals.add(String(e.final)), false), expect: "Never", search: { strategy } });
      return { finals: [...finals].sort(), n: r.stats.executions };
    };
    const dfs = run(false, "dfs"), dpor = run(false, "dpor");
    expect(dfs.finals).toEqual(["false,false", "false,true", "true,false", "true,true"]);
    expect(dpor.finals).toEqual(dfs.finals);
    // 10 while the end of an execution wrote the item's one object (PENDING and busy_hash in one).
    expect(dpor.n).toBe(6);
    // The mutant: the bit read in a step on another object. Nothing orders it against queue_work.
    expect(run(true, "dpor").finals).not.toEqual(dfs.finals);
  });

  // flush_workqueue waits for each queued item with one blocking read of its count, enabled when
  // no execution is left. It conflicts with the item's last step (a write of the count), but that
  // race cannot be reversed: the wait is enabled only once the step has run. A
  // "busy?" read before the wait raced that step (both orders reach the same state), and so did
  // two flushers' waits while a wait wrote the count. Two flushers of one queued item, each
  // recording what the log held when its flush returned: DPOR must reach exactly DFS's outcomes
  // in three executions (F's flush before or after Q's queue_work, and F's read of the log before
  // or after a runs when its flush did not wait); the split flush with a writing wait took 11.
  it("a flush's wait for an item commutes with the item's last step and with another flush: three executions, where eleven ran before", () => {
    const m = model("two flushers", () => {
      const k = boot(ENOW);
      const wq = alloc_workqueue(k, "wq");
      const log = new SharedVar("log", "");
      const a = init_work(k, "a", () => appendLog(log, "a"));
      const seen = ["", ""];
      return {
        threads: {
          Q: function* () { yield* queue_work(k, wq, a); yield* flush_workqueue(k, wq); seen[0] = yield* log.read(); },
          F: function* () { yield* flush_workqueue(k, wq); seen[1] = yield* log.read(); },
        },
        final: () => seen.join("|"),
      };
    });
    const run = (strategy: "dfs" | "dpor") => {
      const finals = new Set<string>();
      const r = check({ title: "two flushers", model: m, predicate: (e) => (finals.add(String(e.final)), false), expect: "Never", search: { strategy } });
      return { finals: [...finals].sort(), n: r.stats.executions };
    };
    const dfs = run("dfs"), dpor = run("dpor");
    // F's flush returns at once when it sees the queue before Q's queue_work (it then reads "" or
    // "a"), or after a has run when it sees a queued.
    expect(dpor.finals).toEqual(dfs.finals);
    expect(dpor.finals).toEqual(["a|", "a|a"]);
    expect(dpor.n).toBe(3);
  });

  /** Under PF_MEMALLOC, `how` a work item of a !WQ_MEM_RECLAIM queue (flushed once before if `idle`). */
  const memallocFlush = (era: typeof ENOW, how: "flush_work" | "cancel_work_sync", idle = false) => model(`PF_MEMALLOC ${how} of ${idle ? "an idle" : "a busy"} item (${era.name})`, () => {
    const k = boot(era);
    const wq = alloc_workqueue(k, "wq");
    const a = init_work(k, "a", function* () {});
    return {
      threads: {
        T: function* () {
          yield* queue_work(k, wq, a);
          if (idle) yield* flush_work(k, a);
          k.current().memalloc++;
          if (how === "flush_work") yield* flush_work(k, a);
          else yield* cancel_work_sync(k, a);
          k.current().memalloc--;
        },
      },
    };
  });

  it("check_flush_dependency: reclaim flushing a busy item of a !WQ_MEM_RECLAIM queue is reported, an idle one returns before the check (already_gone)", () => {
    claim({ title: "idle: never reported", model: memallocFlush(ENOW, "flush_work", true), predicate: (e) => e.has("flush-dependency"), expect: "Never" });
    // Busy only if the worker has not finished yet: reported in some schedule, not in all.
    claim({ title: "busy: reported", model: memallocFlush(ENOW, "flush_work"), predicate: (e) => e.has("flush-dependency"), expect: "Sometimes" });
  });

  it("check_flush_dependency is not run by cancel_work_sync since de35994ecd2d (now); v4.16 runs it", () => {
    claim({ title: "now: never", model: memallocFlush(ENOW, "cancel_work_sync"), predicate: (e) => e.has("flush-dependency"), expect: "Never" });
    claim({ title: "2018: sometimes (the work running when cancelled)", model: memallocFlush(E18, "cancel_work_sync"), predicate: (e) => e.has("flush-dependency"), expect: "Sometimes" });
  });
});

