// mutex_lock_nested: lockdep keeps one class per (key, subclass), so taking a lock as subclass 1
// inside the same class held as subclass 0 is no recursion, and an order against subclass 1 is
// not an order against subclass 0. i915 relies on it (struct_mutex and obj->mm.lock taken as
// I915_MM_SHRINKER from reclaim); the model had no subclasses until December 2026, which made
// i915@v5.4's callback report cycles its kernel would not. Unlock must release the class the lock
// was taken as: with unlock releasing the base class, the last claim fails (tried, December 2026).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";

const inversion = (subclass: number) => model(`B then A/${subclass}, A then B`, () => {
  const k = boot(ENOW);
  const a = new KMutex(k, "A"), b = new KMutex(k, "B");
  // What lockdep holds for T1 right after it unlocks A: only B, or unlock released the wrong class.
  let heldAfterA: string[] = [];
  return {
    threads: {
      T0: function* () { yield* a.lock(); yield* b.lock(); yield* b.unlock(); yield* a.unlock(); },
      T1: function* () {
        yield* b.lock();
        yield* a.lockNested(subclass);
        yield* a.unlock();
        heldAfterA = k.current().held.map((h) => h.name);
        yield* b.unlock();
      },
    },
    final: () => ({ aFree: !a.isLocked(), heldAfterA }),
  };
});

describe("mutex_lock_nested", () => {
  it("subclass 0 is the lock's class: the inversion is reported", () => {
    claim({ title: "A/0", model: inversion(0), predicate: (e) => e.findings.some((f) => f.kind === "lockdep" && /circular/.test(f.message)), expect: "Always" });
  });
  it("another subclass is a class of its own: no report, and unlock releases it", () => {
    claim({ title: "A/1", model: inversion(1), predicate: (e) => e.has("lockdep"), expect: "Never" });
    claim({ title: "A/1 released", model: inversion(1), predicate: (e) => e.status === "finished" && !e.final.aFree, expect: "Never" });
    claim({ title: "A/1 released in lockdep too: T1 holds only B after unlocking A", model: inversion(1), predicate: (e) => e.status === "finished" && e.final.heldAfterA.join() !== "B", expect: "Never" });
  });
});
