// S11 (kernel-semantics §29): the invalidate callback holds its notifier lock and flushes a work
// item whose function takes the same lock. Real deadlock in both eras; lockdep sees it only where
// flush_work carries the work map (absent v4.15–v4.18, so not in E18: §30), and since v6.9
// (c35aea39d1e1) only when the work is still pending or running, so not in every schedule now.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { alloc_workqueue, flush_work, init_work, queue_work } from "../../lib/kernel/workqueue.ts";
import { trackNotifier } from "../../lib/kernel/device-oracles.ts";
import { anonProcess, registerAtSetup } from "./setup.ts";

function s11(era: Era, flushUnderLock: boolean) {
  return model(`S11 ${era.name} ${flushUnderLock ? "flush under lock" : "flush after unlock"}`, () => {
    const k = boot(era);
    const { mm } = anonProcess(k, 1);
    const lock = new KMutex(k, "drv->notifier_lock");
    const wq = alloc_workqueue(k, "drv-wq");
    const work = init_work(k, "drv->release_work", function* () { yield* lock.lock(); yield* lock.unlock(); });
    registerAtSetup(mm, new MmuNotifier(trackNotifier(k, {
      name: "drv_mn",
      *invalidate_range_start() {
        yield* lock.lock();
        if (flushUnderLock) yield* flush_work(k, work);
        yield* lock.unlock();
        if (!flushUnderLock) yield* flush_work(k, work);
      },
    })));
    return {
      threads: {
        CPU: function* () { yield* munmap(k, mm, 0, 1); },
        DRV: function* () { yield* queue_work(k, wq, work); },
      },
    };
  });
}

describe("S11: flush_work under the notifier lock", () => {
  const cases: [Era, boolean, string, string][] = [
    [E18, true, "Sometimes", "Never"],
    [ENOW, true, "Sometimes", "Sometimes"],
    [E18, false, "Never", "Never"],
    [ENOW, false, "Never", "Never"],
  ];
  for (const [era, under, dl, ldv] of cases) {
    it(`${era.name}, ${under ? "flush under the lock" : "near miss: flush after unlock"}: deadlock ${dl}, lockdep ${ldv}`, () => {
      const m = s11(era, under);
      claim({ title: "deadlock", model: m, predicate: (e) => e.has("deadlock"), expect: dl as "Never" });
      claim({ title: "lockdep", model: m, predicate: (e) => e.has("lockdep"), expect: ldv as "Never" });
    });
  }
});
