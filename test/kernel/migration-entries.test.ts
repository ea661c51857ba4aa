// Migration entries under fork and mprotect (kernel-semantics §12). A page being migrated is
// mapped by migration entries until remove_migration_ptes; fork and mprotect meet those entries,
// not the page. v4.16 copy_one_pte / v6.x copy_nonpresent_pte copy them into the child (made
// readable in a COW mapping, in the parent too), and change_pte_range makes a writable one
// readable. The model once dropped them in fork (the child lost the page: it faulted in a zero
// page) and left them writable under mprotect (remove_migration_ptes restored a writable PTE in
// a read-only VMA); then, fixed, it kept the page's exclusivity on the new frame while fork made
// the entries shared (the parent's next store reused a page the child mapped).
import { describe, it } from "vitest";
import { claim, Completion, model, together } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW, ERAS } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_MIGRATION, PTE_PRESENT, PTE_WRITE, VM_READ, type Mm } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { mprotect } from "../../lib/kernel/mprotect.ts";
import { migrate_page } from "../../lib/kernel/migrate.ts";
import { CPU_WRITE_ID, PG_ANON_EXCLUSIVE } from "../../lib/kernel/page.ts";
import { FOLL_LONGTERM, FOLL_WRITE, pin_user_pages } from "../../lib/kernel/gup.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";

const migrationEntries = (mms: Mm[]): number => mms.reduce((n, mm) => n + [...mm.pteFlags].filter((f) => f & PTE_MIGRATION).length, 0);

describe.each(ERAS)("migration entries ($name)", (era) => {
  // The parent stores, then fork (or mprotect) runs beside the page's migration.
  const m = (op: "fork" | "fork, store" | "mprotect") =>
    model(`${op} beside migration`, () => {
      const k = boot(era);
      const parent = mm_alloc(k, 8);
      const child = mm_alloc(k, 8);
      mmap_region(parent, 0, 1);
      const [pfn] = populate(k, parent, 0, 1);
      const stored = new Completion("stored");
      let seen = 0;
      return {
        threads: {
          P: function* () {
            yield* user_write(k, parent, 0);
            yield* stored.complete();
            if (op === "fork") {
              yield* fork(k, parent, child);
              seen = yield* user_read(k, child, 0);
            } else if (op === "fork, store") {
              // The page is shared now: the parent's next store copies it (v6.x: the migration
              // entries carry the page's exclusivity, and fork made them shared).
              yield* fork(k, parent, child);
              yield* user_write(k, parent, 0);
            } else yield* mprotect(k, parent, 0, 1, VM_READ);
          },
          M: function* () {
            yield* stored.wait();
            yield* migrate_page(k, pfn);
          },
        },
        final: () => ({ lost: (seen & (1 << CPU_WRITE_ID)) === 0, left: migrationEntries([parent, child]), writable: (parent.pteFlags[0] & PTE_WRITE) !== 0, shared: parent.ptePfn[0] === child.ptePfn[0] && (parent.pteFlags[0] & child.pteFlags[0] & PTE_PRESENT) !== 0 }),
      };
    });
  it("fork: the child sees the parent's store, no migration entry is left, and the parent's next store copies", () => {
    // One search for both (lib/explorer/group.ts). (Over field footprints it took three times as long:
    // migration's steps are not split.)
    const fork = m("fork"), search = { strategy: "dpor" } as const;
    together((g) => {
      g.claim({ title: "child lost the page", model: fork, predicate: (e) => e.final.lost, expect: "Never", search });
      g.claim({ title: "entries left", model: fork, predicate: (e) => e.final.left > 0, expect: "Never", search });
    });
    // Within two preemptions: over every schedule the search passes 100,000 executions.
    claim({ title: "still one frame after the parent's store (at most 2 preemptions)", model: m("fork, store"), predicate: (e) => e.final.shared, expect: "Never", search: { strategy: "bounded", preemptions: 2 } });
  });
  it("mprotect(PROT_READ): the PTE is never writable after it", () => {
    claim({ title: "writable", model: m("mprotect"), predicate: (e) => e.final.writable, expect: "Never" });
  });
});

describe.each(ERAS)("migration keeps the page's exclusivity ($name)", (era) => {
  // v6.x moves PageAnonExclusive into the migration entry and back (try_to_migrate_one,
  // remove_migration_pte): after a migration the process still owns its page exclusively, and a
  // store reuses it. (A read-only GUP would not tell: its unshare fault makes the page exclusive
  // again.) v4.16 has no such flag and reuses by mapcount.
  const m = model("migrate, store", () => {
    const k = boot(era);
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, 1);
    const [pfn] = populate(k, mm, 0, 1);
    let r = -1, after = -1, exclusive = false;
    return {
      threads: {
        T: function* () {
          r = yield* migrate_page(k, pfn);
          after = mm.ptePfn[0];
          exclusive = (k.mem.flags[after] & PG_ANON_EXCLUSIVE) !== 0;
          yield* user_write(k, mm, 0);
        },
      },
      final: () => ({ migrated: r === 0 && after !== pfn, exclusive, reused: mm.ptePfn[0] === after }),
    };
  });
  it(era.cowReuse === "exclusive" ? "the new page is exclusive, and a store reuses it" : "a store reuses the new page", () => {
    const exclusive = era.cowReuse === "exclusive";
    claim({ title: "migrated, exclusive as before, reused", model: m, predicate: (e) => e.final.migrated && e.final.exclusive === exclusive && e.final.reused, expect: "Always" });
  });
});

describe("migration of a pinned exclusive page (now)", () => {
  // v6.x try_to_migrate_one: folio_try_share_anon_rmap_pte fails on an exclusive page that may be
  // pinned, so the PTE stays, exclusive, and the migration fails (the folio is still mapped). The
  // end state is what a failed migration leaves either way (the entries restored to the old
  // page, exclusive again from the entry); what the refusal saves is the window in which the
  // process would fault on a migration entry.
  const m = model("pin, migrate", () => {
    const k = boot(ENOW);
    const mm = mm_alloc(k, 8);
    mmap_region(mm, 0, 1);
    const [pfn] = populate(k, mm, 0, 1);
    const pages: number[] = [];
    let r = 0;
    return {
      threads: {
        T: function* () {
          yield* mm.mmapLock.downRead();
          yield* pin_user_pages(k, mm, 0, 1, FOLL_WRITE | FOLL_LONGTERM, pages);
          yield* mm.mmapLock.upRead();
          r = yield* migrate_page(k, pfn);
        },
      },
      final: () => ({ failed: r !== 0, stays: mm.ptePfn[0] === pfn && (mm.pteFlags[0] & PTE_PRESENT) !== 0, exclusive: (k.mem.flags[pfn] & PG_ANON_EXCLUSIVE) !== 0 }),
    };
  });
  it("fails; the PTE stays, and so does the page's exclusivity", () => {
    claim({ title: "refused", model: m, predicate: (e) => e.final.failed && e.final.stays && e.final.exclusive, expect: "Always" });
  });
});
