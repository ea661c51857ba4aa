// The work-stealing search (steal.ts) driven by simulated workers in a seeded random order, with
// splits asked at random points and every worker's messages delivered late (FIFO per worker), as
// with worker threads. Shared by the stealing soundness tests (plain and field footprints).
import { expect } from "vitest";
import type { Execution } from "../../lib/explorer/execution.ts";
import type { Model } from "../../lib/explorer/model.ts";
import { Prng } from "../../lib/explorer/prng.ts";
import type { SearchContext } from "../../lib/explorer/search.ts";
import { StealCoordinator, SubtreeSearch, type StealMessage } from "../../lib/explorer/steal.ts";

/** Outcome key of an execution: its final state and the kinds of its findings. */
export type OutcomeKey = (x: Execution) => string;

/** A search context that collects outcome keys and counts executions, up to `limit`. */
export function ctxFor(m: Model<unknown>, key: OutcomeKey, set: Set<string>, count: { executions: number }, limit: number): SearchContext {
  return {
    model: m, config: {}, maxSteps: 200,
    visit(x) {
      count.executions++;
      set.add(key(x));
      return true;
    },
    outOfBudget: () => count.executions >= limit,
    ran() {},
  };
}

/** The stolen search with `workers` simulated workers, driven by a seeded schedule. */
export function stolen(m: Model<unknown>, key: OutcomeKey, seed: number, workers: number, o: { limit?: number; fields?: boolean; defer?: boolean } = {}) {
  const limit = o.limit ?? 30_000;
  const rng = new Prng(seed);
  const set = new Set<string>(), count = { executions: 0 };
  const ctx = ctxFor(m, key, set, count, limit);
  const coord = new StealCoordinator(o.defer ?? true);
  type Live = { s: SubtreeSearch; outbox: (StealMessage | "done")[]; done: boolean };
  const live: Live[] = [];
  let splits = 0;
  const flush = (w: Live, all: boolean) => {
    while (w.outbox.length && (all || rng.below(2))) {
      const msg = w.outbox.shift()!;
      if (msg !== "done") coord.receive(msg);
    }
  };
  for (let guard = 0; ; guard++) {
    if (guard > 1_000_000) throw new Error("stolen search does not terminate");
    for (let u = coord.take(); u; u = live.filter((w) => !w.done).length < workers ? coord.take() : undefined) {
      const w: Live = { s: undefined as unknown as SubtreeSearch, outbox: [], done: false };
      w.s = new SubtreeSearch(m, u, 200, (msg) => w.outbox.push(msg), o.fields ?? false);
      live.push(w);
      if (live.filter((x) => !x.done).length >= workers) break;
    }
    const running = live.filter((w) => !w.done);
    const pendingMail = live.filter((w) => w.outbox.length);
    if (!running.length) {
      if (!pendingMail.length) break;
      for (const w of pendingMail) flush(w, rng.below(3) === 0);
      continue;
    }
    const w = running[rng.below(running.length)];
    // An idle worker (or a coin) asks for a split.
    if (rng.below(running.length < workers ? 1 : 3) === 0) {
      const msg = w.s.split();
      if (msg) {
        splits++;
        w.outbox.push(msg);
      }
    }
    const r = w.s.runOne(ctx);
    if (r !== "more") {
      expect(r).toBe("done");
      w.done = true;
      w.outbox.push("done");
    }
    if (count.executions >= limit) return { set, executions: count.executions, complete: false, splits, units: coord.created };
    for (const x of live) if (x.outbox.length && rng.below(3) === 0) flush(x, false);
    for (let i = live.length - 1; i >= 0; i--) if (live[i].done && !live[i].outbox.length) live.splice(i, 1);
  }
  expect(coord.queued).toBe(0);
  return { set, executions: count.executions, complete: true, splits, units: coord.created };
}
