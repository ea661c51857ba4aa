// GUP-fast against a zap (issue 14, blind spot 3). mm/gup.c (v4.16 gup_pte_range; v6.x
// gup_fast_pte_range): read the PTE locklessly, take the reference only if the refcount is not
// zero (page_cache_get_speculative / try_grab_folio_fast), then re-read the PTE and put the
// reference back if it changed. The model does the read and the grab in two steps, so a munmap
// can free the page in between. Correct kernel: the grab is refused or undone, never a reference
// on a free frame, never a page the PTE no longer maps. Planted bugs: a grab that ignores a zero
// refcount takes a reference on a free frame (uaf, via "reference"; "free" is free-list
// membership, so the stray count does not hide it); a GUP-fast without the re-check returns a
// frame that was freed and handed to another page of the process.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, era as mix, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { FOLL_PIN, FOLL_WRITE, __get_user_pages_fast, put_page } from "../../lib/kernel/gup.ts";
import type { PlantedBug } from "../../lib/kernel/planted.ts";
import { khugepaged_scan_pmd } from "../../lib/kernel/khugepaged.ts";
import { HPAGE_NR } from "../../lib/kernel/page.ts";

type F = { got: number; wrongPage: boolean };
const viaReference = (e: { findings: readonly { kind: string; data?: unknown }[] }) => e.findings.some((f) => f.kind === "uaf" && (f.data as { via?: string }).via === "reference");

/** GUP-fast of page 0 against munmap of page 0 followed by a store to page 1 (a fresh fault: the
 *  LIFO allocator hands out the frame page 0 just freed). GUP releases what it got. */
const gupFastVsMunmap = (era: Era, planted: readonly PlantedBug[] = []) =>
  model(`GUP-fast vs munmap + refault (${era.name}${planted.length ? `; planted ${planted.join(", ")}` : ""})`, () => {
    const k = boot(era, { planted });
    const mm = mm_alloc(k, 4, "proc");
    mmap_region(mm, 0, 2);
    populate(k, mm, 0, 1);
    const out: F = { got: 0, wrongPage: false };
    return {
      threads: {
        GUP: function* () {
          const pages: number[] = [];
          out.got = yield* __get_user_pages_fast(k, mm, 0, 1, FOLL_WRITE, pages);
          // The reference must be to a frame page 0 mapped when it was read, never to page 1's.
          if (out.got === 1 && mm.cpuPfn(1) === pages[0]) out.wrongPage = true;
          for (const p of pages) yield* put_page(k, p);
        },
        MM: function* () {
          yield* munmap(k, mm, 0, 1);
          yield* user_write(k, mm, 1);
        },
      },
      final: () => out,
    };
  });

describe("GUP-fast: try_grab_folio refuses a zero refcount, the re-check undoes a stale grab", () => {
  for (const era of [E18, ENOW])
    it(`${era.name}: correct kernel: no reference on a free frame, no wrong page, no refcount error; GUP-fast sometimes gets the page`, () => {
      const m = gupFastVsMunmap(era);
      claim({ title: "uaf/refcount", model: m, predicate: (e) => e.has("uaf") || e.has("refcount"), expect: "Never" });
      claim({ title: "wrong page", model: m, predicate: (e) => e.final.wrongPage, expect: "Never" });
      claim({ title: "got it", model: m, predicate: (e) => e.final.got === 1, expect: "Sometimes" });
    });

  it("planted grab-dead-frame: a reference taken on a free frame is a uaf (via reference)", () => {
    claim({ title: "grab of a free frame", model: gupFastVsMunmap(E18, ["grab-dead-frame"]), predicate: viaReference, expect: "Sometimes" });
  });

  it("planted gup-fast-no-recheck: GUP returns the frame now mapped at another page", () => {
    claim({ title: "wrong page", model: gupFastVsMunmap(E18, ["gup-fast-no-recheck"]), predicate: (e) => e.final.wrongPage, expect: "Sometimes" });
  });
});

/** GUP-fast of page 1 (kept) against a khugepaged collapse of the PMD [0, HPAGE_NR). `stale`: GUP
 *  holds a frame the CPU no longer maps there (70cbc3cc78a9's race: the reference was taken after
 *  __collapse_huge_page_isolate's refcount check, through the table pmdp_collapse_flush detached). */
const gupFastVsCollapse = (era: Era, tlbFlushWaitsForGupFast: boolean) =>
  model(`GUP-fast vs khugepaged (${era.name}, flush ${tlbFlushWaitsForGupFast ? "waits" : "does not wait"})`, () => {
    const k = boot(era, { tlbFlushWaitsForGupFast });
    const mm = mm_alloc(k, 2 * HPAGE_NR, "proc");
    mmap_region(mm, 0, HPAGE_NR);
    populate(k, mm, 0, HPAGE_NR);
    const out = { got: 0, pfn: -1, collapsed: false };
    return {
      threads: {
        GUP: function* () {
          const pages: number[] = [];
          out.got = yield* __get_user_pages_fast(k, mm, 1, 1, FOLL_WRITE, pages);
          out.pfn = pages[0] ?? -1;
        },
        K: function* () { out.collapsed = yield* khugepaged_scan_pmd(k, mm, 0); },
      },
      final: () => ({ ...out, stale: out.got === 1 && mm.cpuPfn(1) !== out.pfn }),
    };
  });

describe("GUP-fast vs khugepaged: the TLB flush that waits, and the PMD re-check (70cbc3cc78a9)", () => {
  it("native x86 (the flush waits for GUP-fast), v4.16: never a stale reference; the collapse sometimes completes", () => {
    const m = gupFastVsCollapse(E18, true);
    claim({ title: "stale", model: m, predicate: (e) => e.final.stale, expect: "Never" });
    claim({ title: "collapsed", model: m, predicate: (e) => e.final.collapsed, expect: "Sometimes" });
  });
  it("flush without IPI, v4.16: GUP-fast can keep the old page after the collapse (DPOR and DFS agree)", () => {
    claim({ title: "stale (dpor)", model: gupFastVsCollapse(E18, false), predicate: (e) => e.final.stale && e.final.collapsed, expect: "Sometimes" });
    claim({ title: "stale (dfs)", model: gupFastVsCollapse(E18, false), predicate: (e) => e.final.stale && e.final.collapsed, expect: "Sometimes", search: { strategy: "dfs" } });
  });
  it("flush without IPI, with the PMD re-check (v4.16 + backport, and now): never", () => {
    for (const era of [mix(E18, { gupFastPmdRecheck: true }), ENOW])
      for (const strategy of ["dpor", "dfs"] as const)
        claim({ title: `stale ${era.name} ${strategy}`, model: gupFastVsCollapse(era, false), predicate: (e) => e.final.stale, expect: "Never", search: { strategy } });
  });
});

// fork's write_protect_seq (57efa1fe5957, v5.11): gup_fast checks it only when pinning
// (`if (gup_flags & FOLL_PIN)` in mm/gup.c gup_fast, v5.11 to v6.18). A FOLL_GET walk during the
// copy takes the page; a FOLL_PIN walk gives up and falls back to the slow path.
describe("GUP-fast while fork write-protects the parent (write_protect_seq odd)", () => {
  const during = (flags: number) => model(`gup_fast during fork's copy (${flags & FOLL_PIN ? "FOLL_PIN" : "FOLL_GET"})`, () => {
    const k = boot(ENOW);
    const mm = mm_alloc(k, 4, "proc");
    mmap_region(mm, 0, 1);
    populate(k, mm, 0, 1);
    mm.writeProtectSeq = 1; // raw_write_seqcount_begin has run, the end has not
    let got = 0;
    return { threads: { GUP: function* () { got = yield* __get_user_pages_fast(k, mm, 0, 1, flags, []); } }, final: () => got };
  });
  it("FOLL_GET takes the page", () => {
    claim({ title: "got the page", model: during(FOLL_WRITE), predicate: (e) => e.final === 1, expect: "Always" });
  });
  it("FOLL_PIN gives up", () => {
    claim({ title: "got the page", model: during(FOLL_WRITE | FOLL_PIN), predicate: (e) => e.final === 1, expect: "Never" });
  });
});
