// fork's early copy of a maybe-pinned page (v5.9+ copy_present_page, kernel-semantics §7) gives
// the child a page of its own. PG_ANON_EXCLUSIVE marks it so only in an era that has the flag
// (v5.19+): a 2018 kernel with early COW switched on as an experiment must not carry a v6.x page
// flag that migration and swap-out read (they refuse an exclusive, maybe-pinned page).
import { describe, it } from "vitest";
import { claim, Completion, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, era, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { FOLL_LONGTERM, FOLL_WRITE, pin_user_pages } from "../../lib/kernel/gup.ts";
import { CPU_WRITE_ID, PG_ANON_EXCLUSIVE } from "../../lib/kernel/page.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { shrink_folio_list } from "../../lib/kernel/vmscan.ts";
import { GFP_KERNEL } from "../../lib/kernel/gfp.ts";

const m = (e: Era) =>
  model(`pin, fork (${e.name})`, () => {
    const k = boot(e);
    const parent = mm_alloc(k, 8), child = mm_alloc(k, 8);
    mmap_region(parent, 0, 1);
    const [pfn] = populate(k, parent, 0, 1);
    return {
      threads: {
        P: function* () {
          yield* parent.mmapLock.downRead();
          yield* pin_user_pages(k, parent, 0, 1, FOLL_WRITE | FOLL_LONGTERM, []);
          yield* parent.mmapLock.upRead();
          yield* fork(k, parent, child);
        },
      },
      final: () => ({ copied: child.ptePfn[0] !== pfn && child.ptePfn[0] >= 0, exclusive: (k.mem.flags[child.ptePfn[0]] & PG_ANON_EXCLUSIVE) !== 0 }),
    };
  });

describe("fork's early copy of a pinned page", () => {
  it("v6.x: the child's copy is exclusive", () => {
    claim({ title: "copied and exclusive", model: m(ENOW), predicate: (e) => e.final.copied && e.final.exclusive, expect: "Always" });
  });
  it("2018 with early COW switched on: copied, but no v6.x page flag", () => {
    const mixed = era(E18, { forkEarlyCopyPinned: true, pinTracking: true });
    claim({ title: "copied", model: m(mixed), predicate: (e) => e.final.copied, expect: "Always" });
    claim({ title: "exclusive", model: m(mixed), predicate: (e) => e.final.exclusive, expect: "Never" });
  });
});

describe("fork's early copy re-reads the PTE after its allocation (copy_pte_range: goto again)", () => {
  // The copy is decided, then its page allocated (a scheduling point, and reclaim in the
  // kernel); a swap-out in between turns the parent's PTE into a swap entry. The model once
  // copied from the entry's slot number as if it were a frame.
  const mixed = era(E18, { forkEarlyCopyPinned: true, pinTracking: true });
  const m = model("pin, store, fork beside a swap-out", () => {
    const k = boot(mixed, { reclaimCandidates: () => [] });
    swapon(k);
    const parent = mm_alloc(k, 8), child = mm_alloc(k, 8);
    mmap_region(parent, 0, 1);
    const [pfn] = populate(k, parent, 0, 1);
    const pinned = new Completion("pinned");
    let seen = 0;
    return {
      threads: {
        P: function* () {
          yield* user_write(k, parent, 0);
          yield* parent.mmapLock.downRead();
          yield* pin_user_pages(k, parent, 0, 1, FOLL_WRITE | FOLL_LONGTERM, []);
          yield* parent.mmapLock.upRead();
          yield* pinned.complete();
          yield* fork(k, parent, child);
          seen = yield* user_read(k, child, 0);
        },
        R: function* () {
          yield* pinned.wait();
          yield* shrink_folio_list(k, pfn, GFP_KERNEL, false);
        },
      },
      final: () => ({ lost: (seen & (1 << CPU_WRITE_ID)) === 0 }),
    };
  });
  it("the child reads the parent's store", () => {
    claim({ title: "child lost the store", model: m, predicate: (e) => e.final.lost, expect: "Never" });
  });
});
