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
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { FOLL_WRITE, __get_user_pages_fast, put_page } from "../../lib/kernel/gup.ts";
import type { PlantedBug } from "../../lib/kernel/planted.ts";

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
