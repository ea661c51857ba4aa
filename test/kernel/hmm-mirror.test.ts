// The v4.16 HMM mirror (lib/kernel/hmm.ts) before and after ec131b2d7fa6 ("mm/hmm: invalidate
// device page table at start of invalidation", ≈v4.20). After it, range_start clears
// range->valid and syncs the mirrors, and range_end clears range->valid again without syncing
// them: a snapshot registered between an invalidation's start and its end is stale (the PTEs
// are still changing) and hmm_vma_range_done must say so. Until December 2026 the model's
// post-fix range_end did nothing, so such a snapshot passed.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "../../lib/kernel/mmu-notifier.ts";
import { HmmMirror, HmmRange, hmm_alloc, hmm_mirror_register, hmm_vma_fault, hmm_vma_range_done } from "../../lib/kernel/hmm.ts";

const FIXED = era(E18, { hmmInvalidateAtEnd: false }, "E18+ec131b2d7fa6");

/** One thread: an invalidation of page 0 with a snapshot of it taken between start and end. */
const snapshotInsideInvalidation = (e: typeof E18) => model(`snapshot inside an invalidation (${e.name})`, () => {
  const k = boot(e);
  const mm = mm_alloc(k, 4, "p");
  mmap_region(mm, 0, 1);
  populate(k, mm, 0, 1);
  const hmm = hmm_alloc(k, mm);
  const synced: string[] = [];
  const mirror = new HmmMirror({ name: "dev", *sync_cpu_device_pagetables(_m, s, end) { synced.push(`${s}..${end}`); } });
  let done: boolean | null = null;
  return {
    threads: {
      T: function* () {
        yield* hmm_mirror_register(k, mirror, hmm);
        const r = mmu_notifier_range_init(k, mm, 0, 1, "CLEAR");
        yield* mmu_notifier_invalidate_range_start(k, r);
        const range = new HmmRange(mm, 0, 1);
        yield* hmm_vma_fault(k, hmm, range, false, false);
        yield* mmu_notifier_invalidate_range_end(k, r);
        done = yield* hmm_vma_range_done(k, hmm, range);
      },
    },
    final: () => ({ done, synced: synced.join() }),
  };
});

describe("hmm_invalidate_range_end", () => {
  it("after ec131b2d7fa6: a snapshot taken inside the invalidation is stale at range_done, and the mirror is synced once, at start", () => {
    claim({ title: "stale", model: snapshotInsideInvalidation(FIXED), predicate: (e) => e.final.done === false && e.final.synced === "0..1", expect: "Always" });
  });
  it("v4.16: the same, with the mirror synced at end", () => {
    claim({ title: "stale", model: snapshotInsideInvalidation(E18), predicate: (e) => e.final.done === false && e.final.synced === "0..1", expect: "Always" });
  });
});
