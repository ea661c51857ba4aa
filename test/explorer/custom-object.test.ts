// The low-level API the kernel model will use: an Obj subclass with labelled steps,
// notes, findings that end the execution, locks-held bookkeeping; and the sink/progress hooks.
import { afterEach, describe, expect, it } from "vitest";
import { check, finding, locksHeld, model, Mutex, note, Obj, setClaimSink, setProgress, SharedVar, type ClaimResult, type Progress } from "../../lib/explorer/index.ts";

class Page extends Obj {
  private freed = false;
  constructor(name: string) {
    super("page", name);
  }
  free() {
    return this.access<void>("free", "w", { run: () => { this.freed = true; note(`${this.name} freed`); } });
  }
  dmaWrite() {
    return this.access<void>("dma-write", "w", {
      label: "gpu_dma_write",
      run: () => { if (this.freed) finding("uaf", `GPU wrote ${this.name} after it was freed (held: ${locksHeld().join(",") || "none"})`, { page: this.name }, { end: true }); },
    });
  }
}

const gpu = (withLock: boolean) =>
  model(withLock ? "gpu locked" : "gpu racy", () => {
    const page = new Page("page0");
    const lock = new Mutex("notifier_lock");
    const mapped = new SharedVar("mapped", true);
    return {
      threads: {
        GPU: function* () {
          if (withLock) yield* lock.lock();
          if (yield* mapped.read()) yield* page.dmaWrite();
          if (withLock) yield* lock.unlock();
        },
        Reclaim: function* () {
          if (withLock) yield* lock.lock();
          yield* mapped.write(false, "unmap");
          yield* page.free();
          if (withLock) yield* lock.unlock();
        },
      },
    };
  });

afterEach(() => {
  setClaimSink(null);
  setProgress(null);
});

describe("custom objects", () => {
  it("a UAF found in model code ends the execution and is shown in the trace", () => {
    const r = check({ id: "K1", title: "GPU writes a freed page", model: gpu(false), predicate: (e) => e.has("uaf"), expect: "Sometimes" });
    expect(r.pass).toBe(true);
    expect(r.witness!.text).toContain("gpu_dma_write");
    expect(r.witness!.text).toContain("page0 freed");
    expect(r.witness!.text).toMatch(/UAF in GPU at step \d+: GPU wrote page0 after it was freed/);
    expect(r.witness!.findings[0].data).toEqual({ page: "page0" });
  });
  it("with the lock the UAF is Never", () => {
    const r = check({ title: "locked", model: gpu(true), predicate: (e) => e.has("uaf"), expect: "Never" });
    expect(r.pass).toBe(true);
  });
});

describe("hooks", () => {
  it("setClaimSink receives every result", () => {
    const seen: ClaimResult[] = [];
    setClaimSink((r) => seen.push(r));
    check({ id: "S1", title: "sink", model: gpu(true), predicate: (e) => e.has("uaf"), expect: "Never" });
    expect(seen.map((r) => r.id)).toEqual(["S1"]);
  });
  it("progress is reported for long searches only", () => {
    const calls: Progress[] = [];
    setProgress((p) => calls.push(p));
    check({ title: "short", model: gpu(true), predicate: () => false, expect: "Never" });
    expect(calls).toEqual([]);
  });
});

describe("progress for long searches", () => {
  it("reports after PROGRESS_AFTER_MS and ends with done", () => {
    const calls: Progress[] = [];
    // A clock that advances 1 ms per reading: the test does not depend on the machine's speed.
    let fake = 0;
    setProgress((p) => calls.push(p), () => fake++);
    const slow = model("slow", () => {
      const x = new SharedVar("x", 0);
      const t = function* () { for (let i = 0; i < 6; i++) yield* x.write(i); };
      return { threads: { A: t, B: t, C: t } };
    });
    check({ title: "slow", model: slow, predicate: () => false, expect: "Never", search: "dfs", budget: { executions: 3_000 } });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0].executions).toBeGreaterThan(0);
    expect(calls.at(-1)!.done).toBe(true);
    setProgress(null);
  });
  it("runs the progress callback outside the determinism guard (it may write to a stream)", () => {
    // search() keeps the guard installed between executions and lifts it around progress lines.
    let fake = 0, guarded = 0, calls = 0;
    setProgress(() => {
      calls++;
      try { Math.random(); } catch { guarded++; }
    }, () => fake++);
    const slow = model("slow", () => {
      const x = new SharedVar("x", 0);
      const t = function* () { for (let i = 0; i < 6; i++) yield* x.write(i); };
      return { threads: { A: t, B: t, C: t } };
    });
    check({ title: "slow", model: slow, predicate: () => false, expect: "Never", search: "dfs", budget: { executions: 3_000 } });
    expect(calls).toBeGreaterThan(0);
    expect(guarded).toBe(0);
    setProgress(null);
  });
});
