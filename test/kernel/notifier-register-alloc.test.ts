// Registration allocates the mm's subscriptions struct GFP_KERNEL: through __mmu_notifier_register
// under the caller's mmap lock held for write (and whatever the driver holds around it), v4.16 on
// every registration (do_mmu_notifier_register's speculative kmalloc), since v5.4 only for the
// mm's first; through mmu_notifier_register, v4.16 allocates before it takes mmap_sem. Until December 2026 the model allocated nothing there, so lockdep never saw
// "driver lock -> fs_reclaim" through a registration.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, mmap_write_lock, mmap_write_unlock } from "../../lib/kernel/mm.ts";
import { MmuNotifier, __mmu_notifier_register, mmu_notifier_register } from "../../lib/kernel/mmu-notifier.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { FS_RECLAIM } from "../../lib/kernel/lockdep.ts";

describe.each(ERAS)("__mmu_notifier_register allocates ($name)", (era) => {
  it("under the mmap lock; under a driver lock only where the struct is still to be made", () => {
    const m = model("register twice", () => {
      const k = boot(era);
      const mm = mm_alloc(k, 4);
      mmap_region(mm, 0, 1);
      const drvLock = new KMutex(k, "drv->lock");
      const a = new MmuNotifier({ name: "a" }), b = new MmuNotifier({ name: "b" });
      const edges = { mmap: false, second: false };
      return {
        threads: {
          T: function* () {
            yield* mmu_notifier_register(k, a, mm);
            edges.mmap = k.lockdep.hasEdge(k.lockdep.className(mm.mmapLock.cls), FS_RECLAIM);
            yield* drvLock.lock();
            yield* mmap_write_lock(mm);
            yield* __mmu_notifier_register(k, b, mm);
            yield* mmap_write_unlock(mm);
            yield* drvLock.unlock();
            edges.second = k.lockdep.hasEdge("drv->lock", FS_RECLAIM);
          },
        },
        final: () => ({ ...edges }),
      };
    });
    // v4.16's mmu_notifier_register allocates before it takes mmap_sem; since v5.4 under it.
    const r = check({ title: "edges", model: m, predicate: (e) => e.final.mmap === era.notifierAllocFirstOnly && e.final.second === !era.notifierAllocFirstOnly, expect: "Always", reads: ["lockdep"] });
    expect(r.observed).toBe("Always");
  });
});
