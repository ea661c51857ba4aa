// The kernel's guard states (mutex, rwsem, spinlock, page lock, fence, SRCU: explorer effect.ts
// Tracked.guardState) checked against DPOR's re-runs of the reordered prefix, on generated
// programs over those locks: the check mode answers every probe both ways and throws if they
// differ, and the runs with guard states are exactly the runs without. The whole book was run the
// same way once (DPOR_GUARDS=check with `build --unconfined`: no disagreement, 407 records equal).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { model, SharedVar } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import { Execution } from "../../lib/explorer/execution.ts";
import { exploreDporGuards, probeKey, type ProbeKey } from "../../lib/explorer/dpor.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { KRwSem } from "../../lib/kernel/rwsem.ts";
import { Guarded, Spinlock } from "../../lib/kernel/spinlock.ts";
import { Srcu } from "../../lib/kernel/srcu.ts";
import { dma_fence_init, dma_fence_signal, dma_fence_wait } from "../../lib/kernel/dma-fence.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;
type Body = Instr[];
type Instr =
  | { k: "w"; v: number } | { k: "r"; v: number }
  | { k: "mutex"; m: number; body: Body } | { k: "read"; body: Body } | { k: "write"; body: Body } | { k: "nonowner"; body: Body }
  | { k: "spin"; body: Body } | { k: "page"; body: Body } | { k: "srcu"; body: Body } | { k: "sync" }
  | { k: "signal" } | { k: "wait" }
  // a one-step critical section on the spinlock (Spinlock.section: a blocking read of it)
  | { k: "spinsect" };

const plain: fc.Arbitrary<Instr> = fc.oneof(fc.record({ k: fc.constant("w" as const), v: fc.nat(1) }), fc.record({ k: fc.constant("r" as const), v: fc.nat(1) }));
const section = (inner: fc.Arbitrary<Instr>): fc.Arbitrary<Instr> => fc.oneof(
  fc.record({ k: fc.constant("mutex" as const), m: fc.nat(1), body: fc.array(inner, { maxLength: 2 }) }),
  fc.record({ k: fc.constantFrom("read" as const, "write" as const, "nonowner" as const, "page" as const, "srcu" as const), body: fc.array(inner, { maxLength: 2 }) }),
  fc.record({ k: fc.constant("spin" as const), body: fc.array(plain, { maxLength: 1 }) }), // nothing that sleeps under a spinlock
);
const instr: fc.Arbitrary<Instr> = fc.oneof({ weight: 2, arbitrary: plain }, { weight: 1, arbitrary: fc.record({ k: fc.constantFrom("sync" as const, "signal" as const, "wait" as const) }) },
  { weight: 4, arbitrary: section(fc.oneof(plain, section(plain))) });
const programArb = fc.array(fc.array(instr, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 });
/** The same programs with one-step critical sections on the spinlock beside its lock() and unlock(). */
const sectionArb = fc.array(fc.array(fc.oneof({ weight: 3, arbitrary: instr }, { weight: 2, arbitrary: fc.constant({ k: "spinsect" as const }) }), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 });

const size = (is: Body): number => is.reduce((n, i) => n + ("body" in i ? 2 + size(i.body) : 1), 0);

function programModel(prog: Instr[][]): Model<unknown> {
  return model("kernel locks", () => {
    const k = boot(ENOW);
    const vars = [new SharedVar("x", 0), new SharedVar("y", 0)];
    const mutexes = [new KMutex(k, "M0"), new KMutex(k, "M1")];
    const sem = new KRwSem(k, "sem"), spin = new Spinlock(k, "spin"), page = k.pageLock(0), srcu = new Srcu(k, "srcu");
    const fence = dma_fence_init(k, "F");
    const counts = new Guarded("n");
    let n = 0;
    const seen: number[][] = prog.map(() => []);
    const run = function* (t: number, is: Body): Gen<void> {
      for (const i of is)
        switch (i.k) {
          case "w": yield* vars[i.v].write(t + 1); break;
          case "r": seen[t].push(yield* vars[i.v].read()); break;
          case "mutex": yield* mutexes[i.m].lock(); yield* run(t, i.body); yield* mutexes[i.m].unlock(); break;
          case "read": yield* sem.downRead(); yield* run(t, i.body); yield* sem.upRead(); break;
          case "write": yield* sem.downWrite(); yield* run(t, i.body); yield* sem.upWrite(); break;
          case "nonowner": yield* sem.downReadNonOwner(); yield* run(t, i.body); yield* sem.upReadNonOwner(); break;
          case "spin": yield* spin.lock(); yield* run(t, i.body); yield* spin.unlock(); break;
          case "page": yield* page.lock(); yield* run(t, i.body); yield* page.unlock(); break;
          case "srcu": { const idx = yield* srcu.readLock(); yield* run(t, i.body); void idx; yield* srcu.readUnlock(); break; }
          case "sync": yield* srcu.synchronize(); break;
          case "signal": seen[t].push(yield* dma_fence_signal(k, fence)); break;
          case "wait": seen[t].push(yield* dma_fence_wait(k, fence)); break;
          case "spinsect": yield* spin.section("n++", counts.updates, () => void n++); break;
        }
    };
    return {
      threads: Object.fromEntries(prog.map((is, t) => [`T${t}`, () => run(t, is)])),
      final: () => JSON.stringify([seen, vars.map((v) => v.peek()), n]),
    };
  }) as Model<unknown>;
}

function runs(m: Model<unknown>, how: Explore, limit = 5_000): { runs: string[]; complete: boolean } {
  const out: string[] = [];
  let executions = 0;
  const r = how({
    model: m, config: {}, maxSteps: 500,
    ran: (x: Execution) => void out.push(`${x.decisions.join(",")}:${x.status}:${x.findings.map((f) => f.kind).join(",")}`),
    visit: () => (executions++, true),
    outOfBudget: () => executions >= limit,
  });
  return { runs: out, complete: r.complete };
}

describe("the kernel's guard states", () => {
  /** On programs drawn from arb, the check mode agrees with every re-run and neither it nor the
   *  guard states change a run; not vacuous: the programs probe, and guard states answer most. */
  const agreeWithReRuns = (arb: fc.Arbitrary<Instr[][]>, numRuns: number, seed: number): void => {
    let probed = 0, left = 0;
    const counting = (add: () => void): ProbeKey => (o, t, s, q) => (add(), probeKey(o, t, s, q));
    fc.assert(fc.property(arb, (prog) => {
      fc.pre(prog.reduce((n, is) => n + size(is), 0) <= 14);
      const m = programModel(prog);
      const reference = runs(m, exploreDporGuards("probe", counting(() => probed++)));
      fc.pre(reference.complete);
      expect(runs(m, exploreDporGuards("check")).runs).toEqual(reference.runs);
      expect(runs(m, exploreDporGuards("use", counting(() => left++))).runs).toEqual(reference.runs);
    }), { numRuns: Number(process.env.EXPLORER_PROP_RUNS ?? numRuns), seed });
    expect(probed).toBeGreaterThan(100);
    expect(left).toBeLessThan(probed / 2);
  };

  it("agree with the re-runs on generated programs over the kernel's locks, and change no run", () => agreeWithReRuns(programArb, 400, 20261205), 300_000);

  // A section blocked on the spinlock is a blocking read of it: its probes are answered from the
  // spinlock's guard state like a lock()'s (a lying guard state makes the check mode throw).
  it("agree with the re-runs when critical sections on the spinlock are one step", () => agreeWithReRuns(sectionArb, 300, 20261207), 300_000);

  it("mutation: an rwsem guard state that forgets its writer makes the check mode throw", () => {
    const proto = KRwSem.prototype as unknown as { guardState(): number[] };
    const real = proto.guardState;
    proto.guardState = function (this: KRwSem) {
      const s = real.call(this);
      s[0] = -1; // as if no writer held it
      return s;
    };
    try {
      const r = fc.check(fc.property(programArb, (prog) => {
        fc.pre(prog.reduce((n, is) => n + size(is), 0) <= 14);
        runs(programModel(prog), exploreDporGuards("check"));
      }), { numRuns: 400, seed: 20261205 });
      expect(r.failed).toBe(true);
      expect(String(r.errorInstance)).toMatch(/rwsem "sem".*leaves out something/);
    } finally {
      proto.guardState = real;
    }
  }, 300_000);
});
