// do_wp_page decides under the PTE lock and takes a page reference only on its way to
// wp_page_copy (v6.x mm/memory.c: wp_can_reuse_anon_folio runs under vmf->ptl, and
// `folio_get(folio)` comes just before `pte_unmap_unlock` and `wp_page_copy`). The model once took
// the reference at its first step, before deciding: a migration that ran in that window found one
// reference too many and failed, and the fault then reused the page, an outcome the kernel cannot
// reach without a copy. In the kernel a migration fails beside this fault only while the fault
// holds its copy reference (v6.x migration_entry_wait takes none, ffa65753c431 v5.19), so the
// fault has allocated its copy; its next round may still reuse the page once the migration
// entries are gone.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_WRITE } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { migrate_page } from "../../lib/kernel/migrate.ts";
import { PG_ANON_EXCLUSIVE } from "../../lib/kernel/page.ts";
import { user_write } from "../../lib/kernel/user.ts";

/**
 * The state fork leaves in the parent once the child has exited: the PTE write-protected and the
 * page no longer PageAnonExclusive (v6.x copy_present_pte -> folio_try_dup_anon_rmap_pte), mapped
 * once. A store takes wp_can_reuse_anon_folio's path: trylock, refcount == 1, reuse. `allocations`
 * counts the frames handed out since.
 */
function sharedOnce() {
  const k = boot(ENOW);
  const mm = mm_alloc(k, 8);
  mmap_region(mm, 0, 1);
  const [pfn] = populate(k, mm, 0, 1);
  mm.pteFlags[0] &= ~PTE_WRITE;
  k.mem.flags[pfn] &= ~PG_ANON_EXCLUSIVE;
  const count = (): number => k.mem.gen.reduce((n, g) => n + g, 0);
  const before = count();
  return { k, mm, pfn, allocations: () => count() - before };
}

describe("do_wp_page holds no reference while it decides (now)", () => {
  const m = model("store to a shared-once page, beside its migration", () => {
    const { k, mm, pfn, allocations } = sharedOnce();
    let r = 1;
    return {
      threads: {
        F: function* () {
          yield* user_write(k, mm, 0);
        },
        M: function* () {
          r = yield* migrate_page(k, pfn);
        },
      },
      // One allocation is the migration target; a second is the fault's copy.
      final: () => ({ failed: r !== 0, old: mm.ptePfn[0] === pfn, copied: allocations() > (r === 0 || r === -11 ? 1 : 0) }),
    };
  });
  // Within three preemptions (2,262 executions; the model's old window needed exactly three): the
  // whole search passes 200,000 executions, as every step of both threads touches memory.
  const search = { strategy: "bounded", preemptions: 3 } as const;
  it("a migration fails beside the store only while the store holds its copy's reference (at most 3 preemptions)", () => {
    claim({ title: "migration failed, no copy allocated", model: m, predicate: (e) => e.final.failed && !e.final.copied, expect: "Never", search });
    claim({ title: "migration failed, a copy allocated, the old page reused", model: m, predicate: (e) => e.final.failed && e.final.copied && e.final.old, expect: "Sometimes", search });
  });
  it("either order is reachable: the store reuses the page, or the migration moves it", () => {
    claim({ title: "reused", model: m, predicate: (e) => !e.final.failed && e.final.old, expect: "Sometimes", search });
    claim({ title: "moved", model: m, predicate: (e) => !e.final.failed && !e.final.old, expect: "Sometimes", search });
  });
});

describe("do_wp_page holds the page lock only under the PTE lock (now)", () => {
  // Two threads of one process store to the same write-protected page, mapped once and not
  // PageAnonExclusive. The kernel's fault trylocks the page, decides and unlocks it under the PTE
  // lock, so the other fault either runs first (and reuses the page) or finds the PTE writable:
  // nobody copies. The model once kept the page locked from the trylock to a later step; the
  // second fault found the lock busy and copied (a reader's review, December 2026).
  const m = model("two stores to a shared-once page", () => {
    const { k, mm, pfn, allocations } = sharedOnce();
    return {
      threads: {
        A: function* () {
          yield* user_write(k, mm, 0);
        },
        B: function* () {
          yield* user_write(k, mm, 0);
        },
      },
      final: () => ({ copies: allocations(), reused: mm.ptePfn[0] === pfn }),
    };
  });
  it("neither store copies the page", () => {
    claim({ title: "a copy allocated", model: m, predicate: (e) => e.final.copies > 0 || !e.final.reused, expect: "Never" });
  });
});
