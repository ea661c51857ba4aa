// Field footprints for fork (lib/kernel/fork.ts: copy_page_range's copy_pte, copy_present_page,
// write_protect_seq and the parent's TLB flush are split steps). As in field-foot.test.ts: DPOR on
// fields must reach the SET of outcomes naive DFS reaches, on programs that race fork with what
// reads what it writes: a store that breaks COW, a FOLL_LONGTERM pin of the exclusive page (which
// fork, now, copies for the child at once), GUP-fast (which retries on write_protect_seq). A
// recorder that drops the PTE flags or the sequence must lose an outcome, or the comparison could
// not fail.
import { describe, expect, it } from "vitest";
import { model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { outcomes, type Program } from "./outcome-set.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_DIRTY, PTE_PRESENT, PTE_WRITE, PTE_YOUNG } from "../../lib/kernel/mm.ts";
import { addRmap, setPte, tlbFill } from "../../lib/kernel/pgtable.ts";
import { PG_ANON, PG_ANON_EXCLUSIVE } from "../../lib/kernel/page.ts";
import { user_write } from "../../lib/kernel/user.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { FOLL_LONGTERM, FOLL_WRITE, get_user_pages_fast, pin_user_pages, pin_user_pages_fast } from "../../lib/kernel/gup.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** What races with the fork of one exclusive anonymous page: a store to it (with the parent's
 *  TLB empty, or holding a writable entry for it, as after an earlier store), a long-term pin of
 *  it (mmap_lock read), the same through pin_user_pages_fast (lockless, retries while
 *  write_protect_seq is odd), or GUP-fast (FOLL_GET: no sequence check). */
type Shape = "store" | "tlb store" | "pin" | "pin-fast" | "gup-fast" | "pin-fast, no recheck";

/** `forkFirst`: the fork's thread is declared first (the searches' first schedule runs it first). */
function program(shape: Shape, forkFirst: boolean, drop?: (field: string) => boolean): Program {
  const text = `fork vs ${shape}${forkFirst ? "" : ", fork declared second"}`;
  const m = model(text, () => {
    const k = boot(ENOW, { planted: shape === "pin-fast, no recheck" ? ["gup-fast-no-recheck"] : [] });
    const fl = k.mem.fields;
    if (drop && fl) fl.drop = (f) => drop(fl.describe(f));
    const mm = mm_alloc(k, 1, "p");
    mmap_region(mm, 0, 1);
    const a = k.mem.allocFrame();
    k.mem.flags[a] |= PG_ANON | PG_ANON_EXCLUSIVE;
    k.mem.anonMm[a] = mm.id;
    addRmap(k, a);
    setPte(mm, 0, a, PTE_PRESENT | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
    if (shape === "tlb store") tlbFill(k, mm, 0);
    const child = mm_alloc(k, 1, "c");
    const out: unknown[] = [];
    const other = function* (): Gen<void> {
      const pages: number[] = [];
      if (shape === "pin") out.push(yield* pin_user_pages(k, mm, 0, 1, FOLL_WRITE | FOLL_LONGTERM, pages));
      if (shape === "pin-fast" || shape === "pin-fast, no recheck") out.push(yield* pin_user_pages_fast(k, mm, 0, 1, FOLL_WRITE | FOLL_LONGTERM, pages));
      if (shape === "gup-fast") out.push(yield* get_user_pages_fast(k, mm, 0, 1, FOLL_WRITE, pages));
      if (shape === "store" || shape === "tlb store") out.push(yield* user_write(k, mm, 0));
    };
    const forkThread = function* (): Gen<void> { yield* fork(k, mm, child); };
    return {
      threads: forkFirst ? { F: forkThread, U: other } : { U: other, F: forkThread },
      final: () => JSON.stringify([out, [...mm.tlbPfn], [...mm.ptePfn], [...mm.pteFlags], [...child.ptePfn], [...child.pteFlags], mm.writeProtectSeq, [...k.mem.ref], [...k.mem.mapcount], [...k.mem.pins], [...k.mem.contents]]),
    };
  });
  return { text, model: m };
}

const SHAPES: Shape[] = ["store", "tlb store", "pin", "pin-fast", "gup-fast", "pin-fast, no recheck"];
const ORDERS = [true, false];

describe("field footprints: fork's split steps", () => {
  it("reach every outcome DFS reaches", () => {
    let dfsTotal = 0, fieldTotal = 0;
    for (const shape of SHAPES)
      for (const forkFirst of ORDERS) {
        const p = program(shape, forkFirst);
        const dfs = outcomes(p, { strategy: "dfs" }, 20_000);
        expect(dfs.complete, `DFS of ${p.text}`).toBe(true);
        const fld = outcomes(p, { strategy: "dpor", fields: true }, 20_000);
        expect(fld.complete).toBe(true);
        expect(fld.all, p.text).toEqual(dfs.all);
        expect(dfs.all.length, `${p.text}: the race is there to lose`).toBeGreaterThan(1);
        dfsTotal += dfs.n;
        fieldTotal += fld.n;
      }
    console.log(`field footprints, fork: ${SHAPES.length * ORDERS.length} programs, executions DFS ${dfsTotal}, fields ${fieldTotal}`);
  }, 300_000);

  it("copies a pinned exclusive page for the child in some run (copy_present_page is reached)", () => {
    // The pin lands first: the parent keeps its frame, the child gets a frame of its own.
    const dfs = outcomes(program("pin", true), { strategy: "dfs" }, 20_000);
    const states = dfs.all.map((o) => JSON.parse(o.slice(0, o.lastIndexOf(" "))) as number[][]);
    expect(states.some((st) => st[4][0] >= 0 && st[4][0] !== st[2][0])).toBe(true);
  });

  it("loses outcomes when the recorder drops the PTE flags, write_protect_seq and the frames' flags and counts (the comparison can fail)", () => {
    // GUP-fast without its re-check reads the PTE before copy_pte and grabs the page after it:
    // a pin of the page fork just shared with the child, which no serial order gives. Without
    // those fields nothing orders the two GUP-fast steps against fork's.
    const drop = (f: string) => /\.(pteFlags|writeProtectSeq|flags|ref|mapcount|pins)$/.test(f);
    const p = program("pin-fast, no recheck", false), lossy = program("pin-fast, no recheck", false, drop);
    const dfs = outcomes(p, { strategy: "dfs" }, 20_000);
    const fld = outcomes(lossy, { strategy: "dpor", fields: true }, 20_000);
    expect(fld.all.length).toBeLessThan(dfs.all.length);
  }, 300_000);
});
