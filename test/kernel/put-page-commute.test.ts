// Why a put_page that does not free cannot be declared a plain commutative update (issue 13: the
// pairs of such puts were 38% of chapter 03's C03.3 races and 23% of chapter 13's fork claims').
// A put that does not free only decrements the count, and two such puts commute; but whether a put
// frees depends on the count, which the other put changes. Declared an update ("u") when it does
// not free, and nothing more, a put stays asleep in DPOR's sleep set while the other thread's put
// and its next step run, and the order where it frees last, after that step, is never explored.
// The kernel model does declare it an update, with one more rule: the put that leaves exactly one
// reference names the count (FieldLog.cross), and DPOR wakes every sleeping update of it
// (lib/kernel/page.ts putPage; dpor.ts header, "Counts"). This file's mutant is the put without
// that rule.
//
// Here: a frame with two references and a GPU PTE naming it. Thread A puts it. Thread B puts it and
// then removes the GPU PTE. The frame is freed while the PTE names it (a `uaf`) unless B's put and
// PTE removal both come before A's put. The kernel's put (page.ts putPage) reaches both outcomes
// under source-DPOR over field footprints, as DFS does; the mutant loses the one without the uaf.
import { describe, expect, it } from "vitest";
import { model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { MODE_UPDATE } from "../../lib/explorer/effect.ts";
import { boot, type Kernel } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { fieldNo, SPACE_FRAME } from "../../lib/kernel/field-log.ts";
import { HW_GPU_PTE } from "../../lib/kernel/page.ts";
import { outcomes } from "./outcome-set.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** page.ts FRAME_FIELDS: the count is field 0 of a frame. */
const REF = 0;

/** put_page as the kernel model has it (gup.ts put_page): one split step (page.ts putPage). */
function* put(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`put_page(${pfn})`, "w", () => k.mem.putPage(pfn));
}

/** The mutant: a put that does not free records the count as a commutative update, read unseen,
 *  and the put to 1 does not name it (no FieldLog.cross). */
function* putAsUpdate(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`put_page(${pfn}) as an update`, "w", () => {
    const fl = k.mem.fields;
    if (fl === null) return k.mem.putPage(pfn);
    fl.on = false;
    const frees = k.mem.ref[pfn] <= 1;
    if (!frees) k.mem.ref[pfn] -= 1;
    fl.on = true;
    if (frees) k.mem.putPage(pfn);
    else fl.rec(fieldNo(SPACE_FRAME, 0, pfn, REF), MODE_UPDATE);
  });
}

function* threadA(k: Kernel, pfn: number, mutant: boolean): Gen<void> {
  yield* (mutant ? putAsUpdate(k, pfn) : put(k, pfn));
}
function* threadB(k: Kernel, pfn: number, mutant: boolean): Gen<void> {
  yield* (mutant ? putAsUpdate(k, pfn) : put(k, pfn));
  yield* k.mem.fieldStep(`clear GPU PTE to ${pfn}`, "w", () => k.mem.hwPut(pfn, HW_GPU_PTE));
}

function program(mutant: boolean) {
  const text = `two puts and a GPU PTE${mutant ? " (puts that do not free declared updates)" : ""}`;
  return {
    text,
    model: model(text, () => {
      const k = boot(ENOW);
      const pfn = k.mem.allocFrame();
      k.mem.getPage(pfn);
      k.mem.hwGet(pfn, HW_GPU_PTE);
      return { threads: { A: () => threadA(k, pfn, mutant), B: () => threadB(k, pfn, mutant) } };
    }),
  };
}

describe("put_page is not a plain commutative update", () => {
  it("the kernel's put reaches the frees with and without a uaf under DPOR over fields, as DFS does", () => {
    const dfs = outcomes(program(false), { strategy: "dfs" });
    expect(dfs.all.some((o) => o.endsWith(" uaf"))).toBe(true);
    expect(dfs.all.some((o) => !o.endsWith(" uaf"))).toBe(true);
    expect(outcomes(program(false), { strategy: "dpor", fields: true }).all).toEqual(dfs.all);
  });

  it("declared an update when it does not free, DPOR loses the free after the PTE is gone", () => {
    const dfs = outcomes(program(true), { strategy: "dfs" });
    const dpor = outcomes(program(true), { strategy: "dpor", fields: true });
    expect(dfs.all).toEqual(outcomes(program(false), { strategy: "dfs" }).all);
    expect(dpor.all).not.toEqual(dfs.all);
    expect(dpor.all.every((o) => o.endsWith(" uaf"))).toBe(true);
  });
});
