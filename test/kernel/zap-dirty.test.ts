// Who moves a PTE's dirty bit to its page (lib/kernel/pgtable.ts removeRmap, and its callers):
// zap_pte_range does it for a file page only (`if (!PageAnon(page))`, v4.16; today's
// zap_present_folio_ptes the same), try_to_unmap_one and try_to_migrate_one for any page, and
// wp_page_copy's page_remove_rmap of the old page not at all. Until December 2026 removeRmap
// dirtied every page it unmapped, so a munmap and a COW break wrote an anonymous page's flags,
// and ordered themselves against every other step that touched them.
import { describe, expect, it } from "vitest";
import { check, model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { boot, type Kernel } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, type Mm } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { file_create } from "../../lib/kernel/file.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { PG_DIRTY } from "../../lib/kernel/page.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

function* writeThenUnmap(k: Kernel, mm: Mm): Gen<void> {
  yield* user_write(k, mm, 0);
  yield* munmap(k, mm, 0, 1);
}
function* forkThenWrite(k: Kernel, mm: Mm, child: Mm): Gen<void> {
  yield* fork(k, mm, child);
  yield* user_write(k, mm, 0);
}

/** Whether the first frame of page 0 ends dirty, its reference kept so that it outlives the unmap. */
function dirtyAfter(how: "anon munmap" | "file munmap" | "anon COW"): boolean {
  let dirty = false;
  check({
    title: how,
    model: model(how, () => {
      const k = boot(ENOW);
      const mm = mm_alloc(k, 4, "proc"), child = mm_alloc(k, 4, "child");
      if (how === "file munmap") mmap_region(mm, 0, 1, VM_READ | VM_WRITE | VM_SHARED | VM_MAYWRITE, file_create(k, "ext4file", 1, true));
      else mmap_region(mm, 0, 1);
      const [pfn] = populate(k, mm, 0, 1);
      // Populated pages are written (PG_DIRTY from populate); clean them to see who dirties them.
      k.mem.flags[pfn] &= ~PG_DIRTY;
      k.mem.getPage(pfn);
      return {
        threads: { T: () => (how === "anon COW" ? forkThenWrite(k, mm, child) : writeThenUnmap(k, mm)) },
        final: () => (k.mem.flags[pfn] & PG_DIRTY) !== 0,
      };
    }),
    predicate: (e) => ((dirty = e.final as boolean), false),
    expect: "Never",
    search: { strategy: "dfs" },
  });
  return dirty;
}

describe("a PTE's dirty bit reaches the page only where the kernel moves it", () => {
  it("munmap dirties a file page whose PTE was dirty", () => {
    expect(dirtyAfter("file munmap")).toBe(true);
  });
  it("munmap leaves an anonymous page's flags alone (zap_pte_range: !PageAnon only)", () => {
    expect(dirtyAfter("anon munmap")).toBe(false);
  });
  it("a COW break leaves the old page's flags alone (wp_page_copy's page_remove_rmap)", () => {
    expect(dirtyAfter("anon COW")).toBe(false);
  });
});
