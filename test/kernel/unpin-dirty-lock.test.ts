// unpin_user_pages_dirty_lock (mm/gup.c, now) locks a page only to dirty it, and only if it is not
// dirty yet: a caller holding the page lock of a dirty page (reclaim after add_to_swap, reaching a
// notifier from try_to_unmap) unpins without taking the lock again. Until December 2026 the model
// locked unconditionally and reported a self-deadlock the kernel does not have (found by review).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { FOLL_PIN, FOLL_WRITE, pin_user_pages_fast, unpin_user_pages_dirty_lock } from "../../lib/kernel/gup.ts";
import { PG_DIRTY } from "../../lib/kernel/page.ts";

const unpinUnderLock = (dirtyFirst: boolean) => model(`unpin a ${dirtyFirst ? "dirty" : "clean"} page under its lock`, () => {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 4, "proc");
  mmap_region(mm, 0, 1);
  populate(k, mm, 0, 1);
  return {
    threads: {
      T: function* () {
        const pages: number[] = [];
        yield* pin_user_pages_fast(k, mm, 0, 1, FOLL_PIN | FOLL_WRITE, pages);
        const pfn = pages[0]!;
        if (dirtyFirst) k.mem.flags[pfn] |= PG_DIRTY; else k.mem.flags[pfn] &= ~PG_DIRTY;
        yield* k.pageLock(pfn).lock();
        yield* unpin_user_pages_dirty_lock(k, pages, true);
        yield* k.pageLock(pfn).unlock();
      },
    },
  };
});

describe("unpin_user_pages_dirty_lock", () => {
  it("does not take the lock of a page that is already dirty", () => {
    claim({ title: "dirty", model: unpinUnderLock(true), predicate: (e) => e.status !== "finished", expect: "Never" });
  });
  it("does take it to dirty a clean page (the caller holding it deadlocks)", () => {
    claim({ title: "clean", model: unpinUnderLock(false), predicate: (e) => e.status === "deadlock", expect: "Always" });
  });
});
