// The swimlane renderer: golden SVGs for small traces, and properties over random traces.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { TraceEvent } from "../../lib/explorer/index.ts";
import { rowsOf, swimlaneSvg, type SwimFinding } from "../../build/src/swimlane.ts";

const DIR = path.resolve(import.meta.dirname, "../fixtures/swimlane");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

function golden(name: string, svg: string) {
  const p = path.join(DIR, name);
  if (!UPDATE && !existsSync(p)) throw new Error(`${name} has no baseline yet; create it with UPDATE_GOLDEN=1 and review it`);
  if (UPDATE) writeFileSync(p, svg + "\n");
  expect(svg + "\n", `${name} differs from its baseline; refresh with UPDATE_GOLDEN=1 if intended`).toBe(readFileSync(p, "utf8"));
}

const ev = (step: number, thread: string, label: string, kind = "write", obj = "x", held: string[] = [], note = ""): TraceEvent =>
  ({ step, thread, label, obj, kind, held, note });

const lostUpdate: TraceEvent[] = [
  ev(0, "task0", "read(counter)", "read", "counter"),
  ev(1, "task1", "read(counter)", "read", "counter"),
  ev(2, "task1", "write(counter)", "write", "counter"),
  ev(3, "task0", "write(counter)", "write", "counter", [], "counter = 1"),
];

const uaf: TraceEvent[] = [
  ev(0, "cs", "amdgpu_cs_ioctl › get_user_pages", "read", "pte", [], "page 7 ref +1"),
  ev(1, "munmap", "down_write(mmap_sem)", "down_write", "mmap_sem", ["mmap_sem"]),
  ev(2, "munmap", "zap_pte_range", "write", "pte", ["mmap_sem"], "pte cleared"),
  ev(3, "munmap", "tlb_finish_mmu › free_pages", "write", "page7", ["mmap_sem"], "page 7 freed"),
  ev(4, "gpu", "gpu write", "write", "page7", [], ""),
  ev(5, "munmap", "up_write(mmap_sem)", "up_write", "mmap_sem", []),
];
const uafFindings: SwimFinding[] = [{ kind: "uaf", message: "GPU wrote frame 7 after it was freed", step: 4, thread: "gpu" }];

describe("golden", () => {
  test("a lost update", () => golden("lost-update.svg", swimlaneSvg(lostUpdate, [], { idPrefix: "g1" })));
  test("a use-after-free with a lock span and the finding highlighted", () => {
    const svg = swimlaneSvg(uaf, uafFindings, { idPrefix: "g2" });
    golden("uaf.svg", svg);
    expect(svg).toContain('class="sl-event sl-bad" data-step="4"');
    expect(svg).toContain("UAF: GPU wrote frame 7 after it was freed");
    expect(svg).toContain('data-lock="mmap_sem"');
  });
});

const traceArb = fc.integer({ min: 1, max: 80 }).chain((n) =>
  fc.array(fc.record({
    thread: fc.constantFrom("cs", "munmap", "gpu", "worker"),
    kind: fc.constantFrom("read", "write", "lock", "unlock", "choose", "step"),
    note: fc.constantFrom("", "", "", "page freed"),
    lock: fc.boolean(),
  }), { minLength: n, maxLength: n }).map((xs) => xs.map((x, i) => ev(i, x.thread, `${x.kind}-${i}`, x.kind, "o", x.lock ? ["L"] : [], x.note))));

describe("properties", () => {
  test("every event of a trace appears exactly once, as a box or inside a collapsed row", () => {
    fc.assert(fc.property(traceArb, (trace) => {
      const svg = swimlaneSvg(trace, []);
      const seen: number[] = [];
      for (const m of svg.matchAll(/data-step="(\d+)"/g)) seen.push(Number(m[1]));
      for (const m of svg.matchAll(/data-steps="([\d ]+)"/g)) seen.push(...m[1]!.split(" ").map(Number));
      expect(seen.sort((a, b) => a - b)).toEqual(trace.map((e) => e.step));
    }), { numRuns: 200 });
  });

  test("one lane per thread", () => {
    fc.assert(fc.property(traceArb, (trace) => {
      const svg = swimlaneSvg(trace, []);
      const lanes = [...svg.matchAll(/class="sl-lane" data-thread="([^"]+)"/g)].map((m) => m[1]);
      expect(lanes).toEqual([...new Set(trace.map((e) => e.thread))]);
    }), { numRuns: 100 });
  });

  test("a 60-step trace collapses its uninteresting runs and says so", () => {
    const trace = Array.from({ length: 60 }, (_, i) => ev(i, i % 7 === 0 ? "a" : "b", `step-${i}`, "read", "x"));
    trace[30] = ev(30, "b", "the bad one", "write", "x", [], "frame reused");
    const rows = rowsOf(trace, [{ kind: "uaf", message: "m", step: 30 }]);
    expect(rows.length).toBeLessThan(40);
    const svg = swimlaneSvg(trace, [{ kind: "uaf", message: "m", step: 30 }]);
    expect(svg).toMatch(/⋯ \d+ steps without locking, notes or findings collapsed/);
    expect(svg).toContain('data-step="30"');
    expect(svg).toMatch(/<desc[^>]*>[^<]*collapsed/);
  });
});

describe("step column", () => {
  // Seen in chapter 01's C01.4 witness (December 2026): "126–161" was wider than the 44 px column
  // and lost its first digits at the left edge.
  test("every step label fits inside the diagram, with the lanes to its right", () => {
    const trace = Array.from({ length: 400 }, (_, i) => ev(i, i % 37 === 0 ? "a" : "b", `step-${i}`, "read", "x"));
    trace[200] = ev(200, "b", "the bad one", "write", "x", [], "frame reused");
    const svg = swimlaneSvg(trace, [{ kind: "uaf", message: "m", step: 200 }]);
    // book.css anchors every step label at its end (text-anchor on .sl-step, not on each element).
    expect(readFileSync(path.resolve(import.meta.dirname, "../../build/site/book.css"), "utf8")).toMatch(/\.sl-step \{[^}]*text-anchor: end;/);
    const labels = [...svg.matchAll(/<text class="sl-step" x="([\d.]+)"[^>]*>([^<]+)<\/text>/g)].map((m) => ({ right: Number(m[1]), text: m[2]! }));
    expect(labels.some((l) => /^\d{3}–\d{3}$/.test(l.text))).toBe(true);
    const firstLane = Number(/class="sl-lane-bg" x="([\d.]+)"/.exec(svg)![1]);
    for (const l of labels) {
      expect(l.right - l.text.length * 6.6, l.text).toBeGreaterThanOrEqual(0); // 6.6 px a character (swimlane.ts CHAR)
      expect(l.right, l.text).toBeLessThan(firstLane);
    }
  });
});

describe("labels", () => {
  test("the innermost frame survives when a label is too long for its box", async () => {
    const { fitLabel } = await import("../../build/src/swimlane.ts");
    expect(fitLabel("i915_gem_do_execbuffer › i915_gem_userptr_get_pages › mutex_lock(struct_mutex)", 200)).toBe("… › mutex_lock(struct_mutex)");
    expect(fitLabel("execbuf › get_pages › lock(x)", 200)).toBe("execbuf › get_pages › lock(x)");
    expect(fitLabel("a › " + "x".repeat(80), 100).endsWith("x")).toBe(true);
    // A leaf one character short of the box keeps every character of itself.
    expect(fitLabel("user store parent:0 › handle_mm_fault › handle_pte_fault(parent:0, write)", 244)).toBe("…handle_pte_fault(parent:0, write)");
  });

  test("a label keeps its end: the innermost call's arguments give way before its name does", async () => {
    const { fitLabel } = await import("../../build/src/swimlane.ts");
    const inv = "do_munmap › unmap_region › unmap_vmas › mmu_notifier_invalidate_range_start › invalidate_range_start(proc, 0..1)";
    expect(fitLabel(inv, 600)).toBe("… › mmu_notifier_invalidate_range_start › invalidate_range_start(proc, 0..1)");
    expect(fitLabel(inv, 230)).toBe("… › invalidate_range_start(…)");
    const ret = "do_munmap › mmu_notifier_invalidate_range_start › start_only_mn.invalidate_range_start returned (proc:0..1)";
    expect(fitLabel(ret, 250)).toMatch(/invalidate_range_start returned \(…\)$/);
    expect(fitLabel("do_munmap › unmap_region › tlb_flush_mmu(proc): flush TLB, free 1 page(s)", 264)).toBe("tlb_flush_mmu(…): flush TLB, free 1 pag…");
    for (const w of [120, 180, 250, 400]) expect(fitLabel(ret, w).length).toBeLessThanOrEqual(Math.floor(w / 6.6));
  });

  test("three lanes of long labels fit the book's content column at 1280 px; four scale to it", async () => {
    const { FIT_WIDTH, MIN_SCALE } = await import("../../build/src/swimlane.ts");
    const long = (t: string, i: number) => ev(i, t, "do_munmap › unmap_region › unmap_vmas › mmu_notifier_invalidate_range_start › x".repeat(2), "write", "x", [], "frame 1 freed");
    const width = (svg: string) => Number(/viewBox="0 0 (\d+) /.exec(svg)![1]);
    expect(width(swimlaneSvg(["a", "b", "c"].map(long), []))).toBeLessThanOrEqual(FIT_WIDTH);
    expect(width(swimlaneSvg(["a", "b", "c", "d"].map(long), [])) * MIN_SCALE).toBeLessThanOrEqual(FIT_WIDTH);
  });
});

describe("bounded size", () => {
  test("a 600-step trace is cut to at most 90 rows, keeps its finding, and still accounts for every step", () => {
    const trace = Array.from({ length: 600 }, (_, i) => ev(i, ["a", "b", "c"][i % 3]!, `lock-${i}`, "lock", "L"));
    const f = [{ kind: "uaf", message: "late", step: 300, thread: trace[300]!.thread }];
    expect(rowsOf(trace, f).length).toBeLessThanOrEqual(90);
    const svg = swimlaneSvg(trace, f);
    expect(svg).toContain('data-step="300"');
    expect(svg).toContain("omitted to keep the diagram readable");
    const seen: number[] = [];
    for (const m of svg.matchAll(/data-step="(\d+)"/g)) seen.push(Number(m[1]));
    for (const m of svg.matchAll(/data-steps="([\d ]+)"/g)) seen.push(...m[1]!.split(" ").map(Number));
    expect(seen.sort((a, b) => a - b)).toEqual(trace.map((e) => e.step));
  });
});

describe("a cut trace (bound.ts)", () => {
  test("keeps its ends and the finding's step, and every left-out step is counted once, in a gap row", async () => {
    const { cutTrace } = await import("../../build/src/bound.ts");
    const trace = Array.from({ length: 5_000 }, (_, i) => ev(i, ["a", "b"][i % 2]!, `w-${i}`, "write", "x", i < 4_000 ? ["L"] : []));
    const f = [{ kind: "uaf", message: "in the middle", step: 2_500, thread: "a" }];
    const c = cutTrace(trace, f)!;
    expect(c.trace.length).toBeLessThan(400);
    expect(c.trace.map((e) => e.step)).toContain(2_500);
    expect(c.cut.gaps).toHaveLength(2);
    const svg = swimlaneSvg(c.trace, f, { gaps: c.cut.gaps });
    const seen: number[] = [];
    for (const m of svg.matchAll(/data-step="(\d+)"/g)) seen.push(Number(m[1]));
    for (const m of svg.matchAll(/data-steps="([\d ]+)"/g)) seen.push(...m[1]!.split(" ").map(Number));
    for (const m of svg.matchAll(/data-omitted="(\d+)-(\d+)"/g)) for (let s = Number(m[1]); s <= Number(m[2]); s++) seen.push(s);
    expect(seen.sort((x, y) => x - y)).toEqual(trace.map((e) => e.step));
    expect(svg.match(/steps left out of this page/g)).toHaveLength(2);
    // The lock held across the first gap is drawn as one bar.
    expect(svg.match(/data-lock="L"/g)!.length).toBeLessThanOrEqual(2);
  });
});
