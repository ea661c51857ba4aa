// A write fault on a shared mapping of a dirty-tracked file keeps the page locked from
// ->page_mkwrite (which makes sure it has buffers) until the PTE is writable and the page dirty
// (v4.16 and today: do_page_mkwrite returns VM_FAULT_LOCKED, fault_dirty_shared_page unlocks).
// Reclaim releases the buffers of a clean, unmapped page only under the page lock, so it cannot
// slip in between. Until December 2026 the model's page_mkwrite unlocked at once, and reclaim in
// that gap left a dirty, writably mapped page without buffers (found by review).
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from "../../lib/kernel/mm.ts";
import { file_create, findOrReadPage } from "../../lib/kernel/file.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { shrink_folio_list } from "../../lib/kernel/vmscan.ts";
import { GFP_KERNEL } from "../../lib/kernel/gfp.ts";
import { PG_DIRTY, PG_PRIVATE } from "../../lib/kernel/page.ts";

const faultVsReclaim = (era: Era) => model(`shared write fault vs reclaim (${era.name})`, () => {
  const k = boot(era);
  const mm = mm_alloc(k, 4, "proc");
  const f = file_create(k, "ext4file", 1, true);
  mmap_region(mm, 0, 1, VM_READ | VM_WRITE | VM_SHARED | VM_MAYWRITE, f);
  const pfn = findOrReadPage(k, f, 0); // in the page cache, clean, with buffers, not mapped
  return {
    threads: {
      W: function* () { yield* user_write(k, mm, 0); },
      R: function* () { yield* shrink_folio_list(k, pfn, GFP_KERNEL, false); },
    },
    final: () => {
      const p = mm.ptePfn[0];
      return { dirtyWithoutBuffers: p >= 0 && (k.mem.flags[p] & (PG_DIRTY | PG_PRIVATE)) === PG_DIRTY };
    },
  };
});

describe.each([E18, ENOW])("do_shared_fault against reclaim ($name)", (era) => {
  it("never leaves the page dirty and mapped without buffers", () => {
    claim({ title: "buffers", model: faultVsReclaim(era), predicate: (e) => e.final.dirtyWithoutBuffers, expect: "Never" });
  });
});
