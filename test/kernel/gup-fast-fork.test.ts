// A read-only FOLL_PIN through GUP-fast against fork, on the current kernel (mm/gup.c gup_fast and
// gup_fast_pte_range, v6.x): the walk samples write_protect_seq first and gives up if it is odd,
// checks gup_must_unshare on the page it grabbed, after the grab, and at the end unpins everything
// and returns 0 if the sequence moved. So a pin it returns is on a page that is still exclusive to
// the process (the kernel's sanity_check_pinned_pages). The page is read-only (mprotect), so the
// fork leaves the parent's PTE as it is and only clears PG_anon_exclusive: the PTE re-check after
// the grab cannot see the fork. Until December 2026 the model checked the sequence and
// must-unshare only when it read the PTE, and a whole fork between that read and the grab left
// a read-only pin on a page the child shares (found by review).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { mprotect, PROT_READ } from "../../lib/kernel/mprotect.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { FOLL_PIN, pin_user_pages_fast, __get_user_pages_fast, unpin_user_page } from "../../lib/kernel/gup.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE } from "../../lib/kernel/page.ts";

const pinVsFork = (fastOnly: boolean) => model(`read-only pin${fastOnly ? " (GUP-fast only)" : ""} vs fork`, () => {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 4, "parent"), child = mm_alloc(k, 4, "child");
  mmap_region(mm, 0, 1);
  populate(k, mm, 0, 1);
  const out = { got: 0, sharedPin: false };
  return {
    threads: {
      P: function* () {
        yield* mprotect(k, mm, 0, 1, PROT_READ);
        const pages: number[] = [];
        out.got = fastOnly ? yield* __get_user_pages_fast(k, mm, 0, 1, FOLL_PIN, pages) : yield* pin_user_pages_fast(k, mm, 0, 1, FOLL_PIN, pages);
        // sanity_check_pinned_pages: a pinned anon page is exclusive when the pin is returned.
        for (const pfn of pages) if ((k.mem.flags[pfn] & (PG_ANON | PG_ANON_EXCLUSIVE)) === PG_ANON) out.sharedPin = true;
        for (const pfn of pages) yield* unpin_user_page(k, pfn);
      },
      F: function* () { yield* fork(k, mm, child); },
    },
    final: () => out,
  };
});

describe("GUP-fast FOLL_PIN against fork (now)", () => {
  it("never returns a read-only pin on a page the fork has shared", () => {
    claim({ title: "GUP-fast only", model: pinVsFork(true), predicate: (e) => e.final.sharedPin, expect: "Never" });
    claim({ title: "with the slow path", model: pinVsFork(false), predicate: (e) => e.final.sharedPin, expect: "Never" });
  });
  it("and the fast path does pin in some schedules (the claim above is not vacuous)", () => {
    claim({ title: "got", model: pinVsFork(true), predicate: (e) => e.final.got === 1, expect: "Sometimes" });
  });
});
