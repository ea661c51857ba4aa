// lockdep's graph as ghost state (lib/kernel/lockdep.ts, Lockdep.graph): a search none of whose
// claims reads "lockdep" boots kernels without the dependency graph. That is sound only because no
// thread reads the graph and its findings never end an execution, so the search explores the same
// tree; this checks it on an ABBA inversion (lockdep reports in every schedule, a real deadlock
// happens in some), and that asking the graph a question it no longer holds fails loudly.
import { describe, expect, it } from "vitest";
import { check, model, type ClaimSpec } from "../../lib/explorer/index.ts";
import { boot, type Kernel } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";

function* nested(outer: KMutex, inner: KMutex) {
  yield* outer.lock();
  yield* inner.lock();
  yield* inner.unlock();
  yield* outer.unlock();
}

let lastKernel: Kernel | null = null;
const abba = model("ABBA on two mutexes", () => {
  const k = (lastKernel = boot(ENOW));
  const a = new KMutex(k, "A"), b = new KMutex(k, "B");
  return { threads: { T0: () => nested(a, b), T1: () => nested(b, a) }, final: () => ({ graph: k.lockdep.graph }) };
});

const FIELDS = { strategy: "dpor", fields: true } as const;
const spec = (reads: readonly string[] | undefined, predicate: ClaimSpec<{ graph: boolean }>["predicate"], expect: ClaimSpec["expect"]): ClaimSpec<{ graph: boolean }> =>
  ({ title: `reads ${reads?.join(",") ?? "all"}`, model: abba, predicate, expect, search: FIELDS, ...(reads ? { reads } : {}) });

describe("lockdep's graph is kept only for searches that read lockdep", () => {
  it("kept when a claim reads lockdep or declares no reads; left out otherwise; the explored tree is the same", () => {
    // lockdep_acquire runs before a task blocks, so every schedule makes both edges and reports.
    const reading = check(spec(["lockdep"], (e) => e.has("lockdep"), "Always"));
    expect(reading.observed).toBe("Always");
    const all = check(spec(undefined, (e) => !e.final.graph, "Never"));
    expect(all.observed).toBe("Never");
    const deadlock = check(spec(["deadlock"], (e) => e.final.graph, "Never"));
    expect(deadlock.observed).toBe("Never");
    const sizes = [reading, all, deadlock].map((r) => [r.stats.executions, r.stats.runs, r.stats.steps]);
    expect(sizes[1]).toEqual(sizes[0]);
    expect(sizes[2]).toEqual(sizes[0]);
    // The deadlock itself is the explorer's, not lockdep's: found with the graph off too.
    expect(check(spec(["deadlock"], (e) => e.has("deadlock"), "Sometimes")).observed).toBe("Sometimes");
  });

  it("with the graph off, hasEdge refuses instead of answering false", () => {
    check(spec(["deadlock"], () => false, "Never"));
    expect(lastKernel!.lockdep.graph).toBe(false);
    expect(() => lastKernel!.lockdep.hasEdge("A", "B")).toThrow(/no claim of it reads "lockdep".*Add "lockdep" to the claim's reads/);
  });
});
