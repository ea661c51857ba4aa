// Zapping the last swap entry of a slot frees the slot (free_swap_and_cache, mm/swapfile.c, v4.16
// and v6.x) when no page is in the swap cache for it. The model once only dropped the count, so
// every munmap of swapped-out memory leaked a slot and a small swap device filled up.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_SWAP } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { shrink_folio_list } from "../../lib/kernel/vmscan.ts";
import { GFP_KERNEL } from "../../lib/kernel/gfp.ts";

describe.each(ERAS)("a zapped swap entry gives its slot back ($name)", (era) => {
  it("with one slot: swap out, munmap, and a second page can still be swapped out", () => {
    const m = model("swap out, munmap, swap out another", () => {
      const k = boot(era, { reclaimCandidates: () => [] });
      swapon(k, 1);
      const mm = mm_alloc(k, 8);
      mmap_region(mm, 0, 2);
      const [a, b] = populate(k, mm, 0, 2);
      return {
        threads: {
          T: function* () {
            yield* shrink_folio_list(k, a, GFP_KERNEL, false);
            yield* munmap(k, mm, 0, 1);
            yield* shrink_folio_list(k, b, GFP_KERNEL, false);
          },
        },
        final: () => ({ second: (mm.pteFlags[1] & PTE_SWAP) !== 0 }),
      };
    });
    claim({ title: "the second page is swapped out", model: m, predicate: (e) => e.final.second, expect: "Always" });
  });
});
