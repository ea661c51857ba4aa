// The kernel's state panel (lib/kernel/view.ts): what a witness's replay shows at each step.
import { describe, expect, it } from "vitest";
import { decodeStates, model, recordStates, replay } from "../../lib/explorer/index.ts";
import { encodeToken } from "../../lib/explorer/token.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18 } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region } from "../../lib/kernel/mm.ts";
import { populate } from "../../lib/kernel/populate.ts";
import { munmap } from "../../lib/kernel/munmap.ts";

const unmapOne = model("munmap one page", () => {
  const k = boot(E18);
  const mm = mm_alloc(k, 4, "proc");
  mmap_region(mm, 0, 1);
  populate(k, mm, 0, 1);
  return { threads: { Zap: function* () { yield* munmap(k, mm, 0, 1); } } };
});

describe("kernelView", () => {
  it("shows the PTE until the step that clears it, and the frame freed at the step that frees it", () => {
    const t = encodeToken([]);
    const states = decodeStates(recordStates(unmapOne, t)!);
    const r = replay(unmapOne, t);
    expect(states.length).toBe(r.steps + 1);
    const pte = (i: number) => states[i]!["proc page table"]?.["vpn 0"]?.["pte"];
    expect(pte(0)).toMatch(/^pfn \d+ present/);
    const cleared = states.findIndex((s, i) => i > 0 && s["proc page table"]?.["vpn 0"]?.["pte"] === undefined);
    expect(cleared).toBeGreaterThan(0);
    // State i is the state after step i - 1: that step's trace line is the zap.
    const ev = r.trace.find((e) => e.step === cleared - 1 && e.kind !== "choose")!;
    expect(ev.label).toMatch(/zap|unmap|pte/i);
    const pfn = pte(0)!.split(" ")[1];
    expect(states[0]!["frames"]![`pfn ${pfn}`]!["state"]).toBe("in use");
    expect(states.at(-1)!["frames"]![`pfn ${pfn}`]!["state"]).toBe("free");
    expect(states[cleared - 1]!["threads"]!["Zap"]!["holds"]).toMatch(/mmap_sem/);
  });
});
