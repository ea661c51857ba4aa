// Planted kernel bugs: each names one mistake a patch to the kernel could make, so that the
// machine's regression tests and the chapters' "what if" blocks can show a claim bite on a broken
// kernel (issue 14). A kernel booted without `planted` has none of them; no claim about the real
// kernel sets one. Keep each to one line of the model it breaks, at the line it breaks.
//
//  gather-no-tlb-flush       tlb_flush_mmu (mm/mmu_gather.c; mm/memory.c at v4.16): free the gathered pages without the
//                            TLB flush that must precede the free (tlb_flush_mmu_tlbonly).
//  grab-dead-frame           mm/gup.c try_grab_folio: take the reference without checking that
//                            the refcount is non-zero (folio_ref_try_add_rcu / page_ref_add_unless).
//  gup-fast-no-recheck       mm/gup.c gup_fast_pte_range (v4.16 gup_pte_range): keep the reference
//                            without re-reading the PTE after taking it, and (now) without the
//                            must-unshare check and gup_fast's write_protect_seq retry after the walk.
//  khugepaged-ignores-refs   mm/khugepaged.c is_refcount_suitable (v4.16: the page_count test of
//                            __collapse_huge_page_isolate and khugepaged_scan_pmd): accept a page
//                            that holds a GUP reference or pin, at the scan and at the re-check.
//  oracle-half-attached      oracle-probes.ts (the model, not the kernel): attach the in-flight
//                            invalidation count only for stale-install, forgetting that
//                            dirty-after-return reads it too. A claim that reads dirty-after-return
//                            alone then sees none (test/kernel/subscriptions.test.ts must catch it).
//  interval-seq-unordered    mmu-notifier.ts (the model): mmu_interval_read_retry and
//                            check_retry read the sequence in thread code, outside its explorer object, so DPOR does not
//                            order it against set_seq (test/kernel/interval-seq.test.ts must catch it).
//  itree-start-commutes      mmu-notifier.ts (the model): mn_itree_inv_start_range is declared a
//                            commutative update like mn_itree_inv_end, although the sequence it
//                            returns depends on whether another invalidation's end ran first
//                            (test/kernel/interval-seq.test.ts must catch it).
//  work-done-count-unnamed   workqueue.ts (the model): a work item's "done" step changes the
//                            count of unfinished executions without naming the count in its
//                            footprint, so flush_work's "busy?" (and any wait for the
//                            count) is not ordered against it
//                            (test/kernel/workqueue.test.ts must catch it).

import type { Kernel } from "./kernel.ts";

export type PlantedBug = "gather-no-tlb-flush" | "grab-dead-frame" | "gup-fast-no-recheck" | "khugepaged-ignores-refs" | "oracle-half-attached" | "interval-seq-unordered" | "itree-start-commutes" | "work-done-count-unnamed";

/** Is the planted bug `b` active in this kernel? (a plain read of boot-time configuration) */
export function planted(k: Kernel, b: PlantedBug): boolean {
  return k.planted.includes(b);
}
