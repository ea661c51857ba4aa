// SetPageDirty / SetPageReferenced as the kernel's callers do them (lib/kernel/page.ts
// PhysMem.setFlag): test the bit, store only when it is clear. With the bit already set the step
// only reads the frame's flags, so under field footprints it commutes with other readers of them;
// it must still read them, or DPOR could not see that a step clearing the bit changes what it
// does. This file's mutant is that mistake: a set bit taken as "nothing touched" (the test made
// with the recorder off, as an unrecorded silent store would be).
//
// Here: a dirty frame. Thread A calls set_page_dirty on it (gup.ts, the kernel model's own
// function). Thread B cleans it in one step (as folio_clear_dirty_for_io would). A after B dirties
// it again; B after A leaves it clean. DFS reaches both; so must DPOR over field footprints.
import { describe, expect, it } from "vitest";
import { model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { boot, type Kernel } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { PG_DIRTY } from "../../lib/kernel/page.ts";
import { set_page_dirty } from "../../lib/kernel/gup.ts";
import { outcomes } from "./outcome-set.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** The mutant set_page_dirty: the test of the bit is not recorded. */
function* setDirtyUnseen(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`set_page_dirty(${pfn}), test unrecorded`, "w", () => {
    const fl = k.mem.fields;
    if (fl !== null) fl.on = false;
    const f = k.mem.flags[pfn];
    if (fl !== null) fl.on = true;
    if (!(f & PG_DIRTY)) k.mem.flags[pfn] = f | PG_DIRTY;
  });
}

function* threadA(k: Kernel, pfn: number, mutant: boolean): Gen<void> {
  yield* (mutant ? setDirtyUnseen(k, pfn) : set_page_dirty(k, pfn));
}
function* threadB(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`clear dirty ${pfn}`, "w", () => {
    k.mem.flags[pfn] &= ~PG_DIRTY;
  });
}

function program(mutant: boolean) {
  const text = `set_page_dirty on a dirty frame vs a clean${mutant ? " (the bit's test unrecorded)" : ""}`;
  return {
    text,
    model: model(text, () => {
      const k = boot(ENOW);
      const pfn = k.mem.allocFrame();
      k.mem.flags[pfn] |= PG_DIRTY;
      return {
        threads: { A: () => threadA(k, pfn, mutant), B: () => threadB(k, pfn) },
        final: () => (k.mem.flags[pfn] & PG_DIRTY ? "dirty" : "clean"),
      };
    }),
  };
}

describe("a flag set only when clear still reads the flags", () => {
  it("set_page_dirty on a set bit reaches both orders with a clean under DPOR over fields, as DFS does", () => {
    const dfs = outcomes(program(false), { strategy: "dfs" });
    expect(dfs.all).toEqual(["clean ", "dirty "]);
    expect(outcomes(program(false), { strategy: "dpor", fields: true }).all).toEqual(dfs.all);
  });

  it("the mutant whose test of the bit is unrecorded loses the order where the frame ends dirty", () => {
    expect(outcomes(program(true), { strategy: "dfs" }).all).toEqual(["clean ", "dirty "]);
    expect(outcomes(program(true), { strategy: "dpor", fields: true }).all).toEqual(["clean "]);
  });
});
