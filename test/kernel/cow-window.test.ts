// wp_page_copy copies the old page BEFORE it calls the notifier start, in both eras
// (kernel-semantics §30): a device write between the copy and the start lands only in the old
// page, which after the COW belongs to the other mm. Even a driver that stops the device in start
// cannot prevent it; the lost write is the kernel's order, not the driver's bug.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { lostWrites } from "../../lib/kernel/oracles.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MirrorGpu } from "../../lib/kernel/mirror-gpu.ts";

describe.each(ERAS)("the wp_page_copy window ($name)", (era) => {
  const m = (deviceWrites: boolean) =>
    model(`cow window (${era.name})`, () => {
      const k = boot(era);
      const p = mm_alloc(k, 8, "parent"), c = mm_alloc(k, 8, "child");
      mmap_region(p, 0, 1);
      const [pfn] = populate(k, p, 0, 1);
      const gpu = new MirrorGpu(k, p);
      const lock = new KMutex(k, "drv->lock");
      // An ideal mirror: invalidates the GPU PTE in start, under its lock; ref-less.
      const sub = new MmuNotifier({ name: "mirror", *invalidate_range_start(_s, r) { yield* lock.lock(); yield* gpu.unmap(r.start, r.end); yield* lock.unlock(); return 0; } });
      sub.mm = p;
      p.notifiers.hlist.push(sub);
      return {
        threads: {
          Parent: function* () {
            yield* gpu.map(0, [pfn]);
            yield* fork(k, p, c); // fork's own invalidation unmaps the GPU PTE: re-map after it
            yield* lock.lock();
            yield* gpu.map(0, [p.cpuPfn(0)]);
            yield* lock.unlock();
            yield* user_write(k, p, 0); // COW: wp_page_copy
          },
          Gpu: function* () {
            if (!deviceWrites) return;
            yield* lock.lock();
            yield* gpu.write(0);
            yield* lock.unlock();
          },
        },
        final: () => lostWrites(k).length,
      };
    });
  it("a device write after the copy and before start is lost (it lands in the page the child keeps)", () => {
    claim({ title: "lost", model: m(true), predicate: (e) => e.final > 0, expect: "Sometimes" });
    // Not a cross-mm-write: at the moment of the write both mms still map the old page.
    claim({ title: "cross-mm", model: m(true), predicate: (e) => e.has("cross-mm-write"), expect: "Never" });
    claim({ title: "no uaf: the old page lives on in the child", model: m(true), predicate: (e) => e.has("uaf"), expect: "Never" });
  });
  it("near miss: no device write, nothing lost", () => {
    claim({ title: "none", model: m(false), predicate: (e) => e.final > 0, expect: "Never" });
  });
});
