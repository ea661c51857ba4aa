// A sleep-set-blocked run still race-checks the pending steps of its blocked threads (dpor.ts,
// analyseRun). The run stops where every enabled thread sleeps; the sleepers' continuations are
// explored elsewhere, but a thread that a step of the prefix disabled is no sleeper. Here T1's
// `unflag` disables T2's `await flag`, and T0's read sleeps: the run T2 T1 T1 was pruned with
// nothing left to show the race, and the orders in which T2 waits before T1 clears the flag were
// lost (one outcome of 13 over field footprints, found by field-foot-also.test.ts's generated
// programs, December 2026). Over declared footprints the same shape needs T0's step to commute
// with T1's and not with T2's, which objects of their own give.
import { describe, expect, it } from "vitest";
import { model } from "../../lib/explorer/index.ts";
import type { Model, Yieldable } from "../../lib/explorer/index.ts";
import type { Explore } from "../../lib/explorer/search.ts";
import { exploreDfs } from "../../lib/explorer/dfs.ts";
import { exploreDpor } from "../../lib/explorer/dpor.ts";
import { Cells, Flag } from "./cells.ts";
import { outcomes } from "./programs.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** T0 [read c2] · T1 [c0 = 2, flag = 0] · T2 [try, await flag, try], where try takes the flag if it is
 *  free and adds to the cell c0 names; over fields, try is one step on all the cells and the flag. */
function overFields(): Model<unknown> {
  return model("pending race, fields", () => {
    const c = new Cells(3, false), f = new Flag();
    const out: number[][] = [[], [], []];
    const tryTake = (t: number): Gen<number> =>
      (function* () {
        return (yield { obj: c, kind: "try", mode: "w", label: "try", also: [{ obj: f, mode: "w" }], run: () => {
          const k = c.v[0] % 3;
          if (f.v !== 0) return 0;
          f.v = t + 1;
          c.v[k] += t + 3;
          return 1;
        } }) as number;
      })();
    return {
      threads: {
        T0: function* () { out[0].push(yield* c.op("r2", true, () => c.get(2))); },
        T1: function* () { out[1].push(yield* c.op("w0", true, () => (c.set(0, 2), 0))); out[1].push(yield* f.write(0)); },
        T2: function* () { out[2].push(yield* tryTake(2)); out[2].push(yield* f.await()); out[2].push(yield* tryTake(2)); },
      },
      final: () => JSON.stringify([c.v, f.v, out]),
    };
  });
}

/** The same shape over declared footprints: x, y and the flag are objects of their own. */
function declared(): Model<unknown> {
  return model("pending race, declared", () => {
    const x = new Flag("x"), y = new Flag("y"), f = new Flag();
    const out: number[][] = [[], [], []];
    const tryTake = (t: number): Gen<number> =>
      (function* () {
        return (yield { obj: f, kind: "try", mode: "w", label: "try", also: [{ obj: x, mode: "r" }, { obj: y, mode: "w" }], run: () => {
          if (f.v !== 0) return 0;
          f.v = t + 1;
          y.v += x.v + t + 3;
          return 1;
        } }) as number;
      })();
    return {
      threads: {
        T0: function* () { out[0].push(yield* y.read()); },
        T1: function* () { out[1].push(yield* x.write(2)); out[1].push(yield* f.write(0)); },
        T2: function* () { out[2].push(yield* tryTake(2)); out[2].push(yield* f.await()); out[2].push(yield* tryTake(2)); },
      },
      final: () => JSON.stringify([x.v, y.v, f.v, out]),
    };
  });
}

/** Every outcome of a complete search (programs.ts) by `explore`. */
function complete(m: Model<unknown>, explore: Explore): string[] {
  const r = outcomes(m, explore, 100_000);
  expect(r.complete).toBe(true);
  return [...r.set].sort();
}

describe("a sleep-set-blocked run race-checks its blocked threads' pending steps", () => {
  it("over field footprints, DPOR reaches DFS's outcomes", () => {
    const m = overFields(), dfs = complete(m, exploreDfs);
    expect(dfs.length).toBe(13);
    expect(complete(m, (ctx) => exploreDpor({ ...ctx, config: { ...ctx.config, fields: true } }))).toEqual(dfs);
  });
  it("over declared footprints, DPOR reaches DFS's outcomes", () => {
    const m = declared(), dfs = complete(m, exploreDfs);
    expect(complete(m, exploreDpor)).toEqual(dfs);
  });
});
