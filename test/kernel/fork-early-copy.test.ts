// fork's early copy of a maybe-pinned page (v5.9+ copy_present_page, kernel-semantics §7) gives
// the child a page of its own. PG_ANON_EXCLUSIVE marks it so only in an era that has the flag
// (v5.19+): a 2018 kernel with early COW switched on as an experiment must not carry a v6.x page
// flag that migration and swap-out read (they refuse an exclusive, maybe-pinned page).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, era, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { FOLL_LONGTERM, FOLL_WRITE, pin_user_pages } from "../../lib/kernel/gup.ts";
import { PG_ANON_EXCLUSIVE } from "../../lib/kernel/page.ts";

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
