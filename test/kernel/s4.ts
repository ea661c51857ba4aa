// S4 (kernel-semantics §29): a notifier callback that allocates, and the reclaim deadlock it
// stands for. Shared by the tests and the benchmark.
import { model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import type { Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, VM_READ, VM_SHARED, type Mm } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { MmuNotifier } from "../../lib/kernel/mmu-notifier.ts";
import { GFP_KERNEL, kmalloc } from "../../lib/kernel/gfp.ts";
import { register_shrinker } from "../../lib/kernel/shrinker.ts";
import { file_create } from "../../lib/kernel/file.ts";
import { munmap } from "../../lib/kernel/munmap.ts";

function hook(mm: Mm, sub: MmuNotifier): void {
  sub.mm = mm;
  mm.notifiers.hlist.push(sub);
}

export const s4CallbackAllocates = (era: Era, gfp: number) =>
    model(`S4 callback allocates (${era.name})`, () => {
      const k = boot(era);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 1);
      populate(k, mm, 0, 1);
      hook(mm, new MmuNotifier({ name: "drv_mn", *invalidate_range_start() { yield* kmalloc(k, gfp); return 0; } }));
      return { threads: { P: function* () { yield* munmap(k, mm, 0, 1); } } };
    });
  // The real deadlock: A holds an fs lock and reclaims under GFP_NOFS/NOIO, reaching the notifier
  // (clean page unmapped), which waits for the driver lock; B holds the driver lock and allocates
  // GFP_KERNEL, whose reclaim runs an fs shrinker that needs the fs lock.
export const s4Deadlock = (era: Era, gfpA: number, allocFirst = false) =>
    model(`S4 deadlock (${era.name})`, () => {
      const f = { file: null as null | ReturnType<typeof file_create> };
      const k = boot(era, { reclaim: "choose", reclaimCandidates: () => [pfn] });
      const mm = mm_alloc(k, 8);
      f.file = file_create(k, "data", 1, false);
      mmap_region(mm, 0, 1, VM_READ | VM_SHARED, f.file);
      const [pfn] = populate(k, mm, 0, 1);
      const fsLock = new KMutex(k, "sb->s_fs_lock", "&sb->fs_lock");
      const drv = new KMutex(k, "drv->lock", "&drv->lock");
      hook(mm, new MmuNotifier({ name: "drv_mn", *invalidate_range_start() { yield* drv.lock(); yield* drv.unlock(); return 0; } }));
      register_shrinker(k, {
        name: "fs_shrinker",
        *count_objects(sc) { return sc.gfp & 2 /* __GFP_FS */ ? 1 : 0; },
        *scan_objects() { yield* fsLock.lock(); yield* fsLock.unlock(); return 1; },
      });
      return {
        threads: {
          A: function* () { yield* fsLock.lock(); yield* kmalloc(k, gfpA); yield* fsLock.unlock(); },
          B: function* () {
            if (allocFirst) yield* kmalloc(k, GFP_KERNEL);
            yield* drv.lock();
            if (!allocFirst) yield* kmalloc(k, GFP_KERNEL);
            yield* drv.unlock();
          },
        },
      };
    });
