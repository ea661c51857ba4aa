// Contracts of the locking primitives, the context rules and lockdep (kernel-semantics §26, §27).
import { describe, expect, it } from "vitest";
import { check, claim, choose, model, spawn } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { Guarded, Spinlock } from "../../lib/kernel/spinlock.ts";
import { outcomes } from "./outcome-set.ts";
import { KRwSem } from "../../lib/kernel/rwsem.ts";
import { PhysMem, HW_GPU_PTE } from "../../lib/kernel/page.ts";

describe("mutex", () => {
  it("ABBA: the explorer finds the real deadlock and lockdep the cycle, with the splat layout", () => {
    const m = model("abba", () => {
      const k = boot(E18);
      const a = new KMutex(k, "A"), b = new KMutex(k, "B");
      return {
        threads: {
          T1: function* () { yield* a.lock(); yield* b.lock(); yield* b.unlock(); yield* a.unlock(); },
          T2: function* () { yield* b.lock(); yield* a.lock(); yield* a.unlock(); yield* b.unlock(); },
        },
      };
    });
    claim({ title: "deadlock", model: m, predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
    // lockdep needs no unlucky schedule: both orders are observed in every execution.
    claim({ title: "lockdep", model: m, predicate: (e) => e.has("lockdep"), expect: "Always" });
    const r = check({ title: "lockdep witness", model: m, predicate: (e) => e.has("lockdep"), expect: "Never" });
    const splat = r.witness!.findings.find((f) => f.kind === "lockdep")!.message;
    expect(splat).toContain("WARNING: possible circular locking dependency detected");
    expect(splat).toContain("the existing dependency chain (in reverse order) is:");
    expect(splat).toContain("CPU0                    CPU1");
    expect(splat).toContain("*** DEADLOCK ***");
  });

  // One execution is one boot: lockdep's graph outlives the task that taught it an order, so a
  // later task taking the opposite order reports although the two never overlap. Two executions
  // are two boots: each starts from an empty graph (boot() makes one), so one order per execution
  // never reports, whatever order the search visits them in.
  it("lockdep remembers edges across the tasks of one boot, not across executions (near miss)", () => {
    const mk = (bothInOneBoot: boolean) =>
      model(bothInOneBoot ? "both orders, one after the other" : "one order per execution", () => {
        const k = boot(E18);
        const a = new KMutex(k, "A"), b = new KMutex(k, "B");
        function* take(ab: boolean) {
          const [x, y] = ab ? [a, b] : [b, a];
          yield* x.lock(); yield* y.lock(); yield* y.unlock(); yield* x.unlock();
        }
        return {
          threads: {
            T: function* () {
              if (!bothInOneBoot) { yield* take(yield* choose("order", [true, false])); return; }
              yield* take(true);
              yield* spawn("U", function* () { yield* take(false); });
            },
          },
        };
      });
    claim({ title: "one boot remembers", model: mk(true), predicate: (e) => e.has("lockdep"), expect: "Always" });
    claim({ title: "no real deadlock: the orders never overlap", model: mk(true), predicate: (e) => e.has("deadlock"), expect: "Never" });
    claim({ title: "a graph per execution does not (near miss)", model: mk(false), predicate: (e) => e.has("lockdep"), expect: "Never" });
  });

  it("mutex_trylock_recursive: RECURSIVE for the owner, FAILED for others; absent now", () => {
    const m = model("trylock_recursive", () => {
      const k = boot(E18);
      const mu = new KMutex(k, "struct_mutex");
      const out: string[] = [];
      return {
        threads: {
          A: function* () {
            yield* mu.lock();
            out.push(yield* mu.trylockRecursive());
            yield* spawn("B", function* () { out.push(yield* mu.trylockRecursive()); });
            yield* mu.unlock();
          },
        },
        final: () => out.join(","),
      };
    });
    claim({ title: "owner gets RECURSIVE", model: m, predicate: (e) => e.final.startsWith("RECURSIVE"), expect: "Always" });
    claim({ title: "another task can fail", model: m, predicate: (e) => e.final === "RECURSIVE,FAILED", expect: "Sometimes" });
    const now = model("now", () => {
      const k = boot(ENOW);
      const mu = new KMutex(k, "m");
      return { threads: { A: function* () { yield* mu.trylockRecursive(); } } };
    });
    expect(() => check({ title: "x", model: now, predicate: () => true, expect: "Always" })).toThrow(/does not exist in era "now"/);
  });
});

describe("context rules", () => {
  it("mutex_lock under a spinlock is sleep-in-atomic; after spin_unlock it is not (near miss)", () => {
    const mk = (unlockFirst: boolean) =>
      model("sleep in atomic", () => {
        const k = boot(E18);
        const s = new Spinlock(k, "mn->lock"), mu = new KMutex(k, "struct_mutex");
        return {
          threads: {
            T: function* () {
              yield* s.lock();
              if (unlockFirst) yield* s.unlock();
              yield* mu.lock();
              yield* mu.unlock();
              if (!unlockFirst) yield* s.unlock();
            },
          },
        };
      });
    claim({ title: "bug", model: mk(false), predicate: (e) => e.has("sleep-in-atomic"), expect: "Always" });
    claim({ title: "near miss", model: mk(true), predicate: (e) => e.has("sleep-in-atomic"), expect: "Never" });
  });
});

describe("rwsem", () => {
  it("a queued writer blocks new readers: read-read recursion across a writer deadlocks", () => {
    const m = model("writer preference", () => {
      const k = boot(E18);
      const rw = new KRwSem(k, "amn->lock");
      return {
        threads: {
          R: function* () { yield* rw.downRead(); yield* rw.downRead(); yield* rw.upRead(); yield* rw.upRead(); },
          W: function* () { yield* rw.downWrite(); yield* rw.upWrite(); },
        },
      };
    });
    claim({ title: "deadlock", model: m, predicate: (e) => e.has("deadlock"), expect: "Sometimes" });
  });

  it("down_read_non_owner: released by another task legally, invisible to lockdep, seen by the wait-for graph", () => {
    const m = model("non_owner", () => {
      const k = boot(E18);
      const rw = new KRwSem(k, "amn->lock");
      const mu = new KMutex(k, "M");
      return {
        threads: {
          Start: function* () { yield* mu.lock(); yield* rw.downReadNonOwner(); yield* mu.unlock(); },
          End: function* () { yield* rw.upReadNonOwner(); },
          Writer: function* () { yield* rw.downWrite(); yield* mu.lock(); yield* mu.unlock(); yield* rw.upWrite(); },
        },
        final: () => ({ mThenRw: k.lockdep.hasEdge("M", "amn->lock"), rwThenM: k.lockdep.hasEdge("amn->lock", "M") }),
      };
    });
    const r = check({ title: "no bad unlock", model: m, predicate: (e) => e.has("bad-unlock"), expect: "Never" });
    // End may run before Start took it: that up_read_non_owner is a bad unlock in those runs.
    expect(r.observed).toBe("Sometimes");
    claim({ title: "lockdep never sees the non-owner hold", model: m, predicate: (e) => e.has("lockdep"), expect: "Never" });
    // Start's M -> amn->lock is never recorded; the Writer's amn->lock -> M is, in every execution
    // that the early bad unlock does not end before the Writer runs.
    claim({ title: "no M -> amn->lock edge", model: m, predicate: (e) => e.final.mThenRw, expect: "Never" });
    claim({ title: "the writer's amn->lock -> M edge", model: m, predicate: (e) => e.has("bad-unlock") || e.final.rwThenM, expect: "Always" });
    claim({ title: "the writer's amn->lock -> M edge (not vacuous)", model: m, predicate: (e) => e.final.rwThenM, expect: "Sometimes" });
  });
});

describe("page lock", () => {
  it("lock_page twice in one call chain is page-lock-recursion and a deadlock", () => {
    const m = model("recursion", () => {
      const k = boot(E18);
      return { threads: { T: function* () { yield* k.pageLock(3).lock(); yield* k.pageLock(3).lock(); } } };
    });
    claim({ title: "found", model: m, predicate: (e) => e.has("page-lock-recursion") && e.has("deadlock"), expect: "Always" });
  });
  it("unlock by another task is legal (near miss)", () => {
    const m = model("io completion", () => {
      const k = boot(E18);
      const done = { v: false };
      return {
        threads: {
          A: function* () { yield* k.pageLock(3).lock(); yield* spawn("irq", function* () { yield* k.pageLock(3).unlock(); }); },
          B: function* () { yield* k.pageLock(3).lock(); done.v = true; yield* k.pageLock(3).unlock(); },
        },
        final: () => done.v,
      };
    });
    claim({ title: "no findings", model: m, predicate: (e) => e.findings.length > 0, expect: "Never" });
  });
});

describe("frames", () => {
  it("the allocator reuses the last freed frame first; gen changes", () => {
    const m = model("alloc", () => {
      const k = boot(E18);
      const out: number[] = [];
      return {
        threads: {
          T: function* () {
            const a = yield* k.mem.step("alloc", "w", () => k.mem.allocFrame());
            const g = k.mem.gen[a];
            yield* k.mem.step("free", "w", () => k.mem.putPage(a));
            const b = yield* k.mem.step("alloc", "w", () => k.mem.allocFrame());
            out.push(a, b, k.mem.gen[b] - g);
          },
        },
        final: () => out,
      };
    });
    claim({ title: "reuse", model: m, predicate: (e) => e.final[0] === e.final[1] && e.final[2] === 1, expect: "Always" });
  });
  it("uaf: freeing a frame a GPU PTE references; near miss: removed first", () => {
    const mk = (removeFirst: boolean) =>
      model("uaf", () => {
        const k = boot(E18);
        return {
          threads: {
            T: function* () {
              const p = yield* k.mem.step("alloc", "w", () => k.mem.allocFrame());
              yield* k.mem.step("gpu map", "w", () => k.mem.hwGet(p, HW_GPU_PTE));
              if (removeFirst) yield* k.mem.step("gpu unmap", "w", () => k.mem.hwPut(p, HW_GPU_PTE));
              yield* k.mem.step("free", "w", () => k.mem.putPage(p));
            },
          },
        };
      });
    claim({ title: "uaf", model: mk(false), predicate: (e) => e.has("uaf"), expect: "Always" });
    claim({ title: "near miss", model: mk(true), predicate: (e) => e.has("uaf"), expect: "Never" });
    expect(PhysMem).toBeDefined();
  });
});

describe("spinlock critical sections in one step (Spinlock.section)", () => {
  // Two end callbacks move the counts under the lock (as i915's rangeEnd what-if does, chapter
  // 02); a reader samples the sequence under the same lock across steps. As sections declaring
  // commuting updates, the two callbacks are one trace in either order; the reader still orders
  // against each (its lock() writes the lock the sections read).
  const mk = (how: "section" | "lock" | "section-wrong") =>
    model(`counts (${how})`, () => {
      const k = boot(ENOW);
      const lock = new Spinlock(k, "mn->lock", "&mn->lock");
      const counts = new Guarded("mn->seq, mn->active");
      const c = { seq: 0, active: 2, sample: -1 };
      function* end(add: number) {
        if (how === "lock") {
          yield* lock.lock();
          c.seq++;
          c.active--;
          yield* lock.unlock();
        } else if (how === "section") {
          yield* lock.section("mn->seq++; mn->active--", counts.updates, () => { c.seq++; c.active--; });
        } else {
          // Declared as commuting updates, but a doubling and an addition do not commute.
          yield* lock.section("mn->seq = 2 * mn->seq + add", counts.updates, () => { c.seq = 2 * c.seq + add; });
        }
      }
      function* reader() {
        yield* lock.lock();
        c.sample = c.seq;
        yield* lock.unlock();
      }
      return { threads: { E1: () => end(1), E2: () => end(10), R: reader }, final: () => `${c.seq}/${c.active}/${c.sample}` };
    });

  it("reach every outcome naive DFS reaches, in fewer executions than lock() and unlock()", () => {
    const dfs = outcomes({ text: "section", model: mk("section") }, { strategy: "dfs" });
    const sec = outcomes({ text: "section", model: mk("section") }, { strategy: "dpor" });
    const locked = outcomes({ text: "lock", model: mk("lock") }, { strategy: "dpor" });
    expect(sec.complete && dfs.complete && locked.complete).toBe(true);
    expect(sec.all).toEqual(dfs.all);
    expect(sec.all).toEqual(locked.all);
    expect(sec.all).toEqual(["2/0/0 ", "2/0/1 ", "2/0/2 "]);
    expect(sec.n).toBeLessThan(locked.n);
  });

  it("a thread that holds the lock and enters a section on it deadlocks, as spin_lock twice does", () => {
    const m = model("self", () => {
      const k = boot(ENOW);
      const lock = new Spinlock(k, "L");
      const d = new Guarded("d");
      return { threads: { T: function* () { yield* lock.lock(); yield* lock.section("again", d.writes, () => 0); yield* lock.unlock(); } } };
    });
    claim({ title: "self-deadlock", model: m, predicate: (e) => e.has("deadlock"), expect: "Always" });
  });

  it("a section whose updates do not commute, declared as if they did, loses an outcome (what the declaration vouches for)", () => {
    const dfs = outcomes({ text: "wrong", model: mk("section-wrong") }, { strategy: "dfs" });
    const sec = outcomes({ text: "wrong", model: mk("section-wrong") }, { strategy: "dpor" });
    expect(sec.all.length).toBeLessThan(dfs.all.length);
  });

  it("a lock with sections refuses spin_trylock and spin_is_locked, which could never see a section holding it", () => {
    const m = (first: "section" | "trylock") =>
      model(`refuse (${first})`, () => {
        const k = boot(ENOW);
        const lock = new Spinlock(k, "L");
        const d = new Guarded("d");
        return {
          threads: {
            T: function* () {
              if (first === "section") {
                yield* lock.section("x", d.writes, () => 0);
                yield* lock.trylock();
              } else {
                yield* lock.trylock();
                yield* lock.unlock();
                yield* lock.section("x", d.writes, () => 0);
              }
            },
          },
        };
      });
    expect(() => check({ title: "t", model: m("section"), predicate: () => false, expect: "Never" })).toThrow(/Spinlock L: spin_trylock could never see one of its critical sections held/);
    expect(() => check({ title: "t", model: m("trylock"), predicate: () => false, expect: "Never" })).toThrow(/Spinlock L: a critical section runs as one step .* also tries or tests this lock/);
  });
});
