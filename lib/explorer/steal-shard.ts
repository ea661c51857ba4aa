// A static split of the source-DPOR search into N shards that share nothing while they run (one
// CI matrix job each), built from the work-stealing units of steal.ts.
//
// Every shard first runs the same deterministic prelude: the whole-tree unit, asked to split
// after each execution, until the coordinator holds enough units (UNITS_PER_SHARD per shard) or
// PRELUDE_EXECUTIONS have run. Being deterministic, the prelude leaves every shard with the same
// queue; unit k of it goes to shard (k + 1) mod N, and shard 0 also finishes the prelude's own
// subtree (only shard 0 counts the prelude's executions). Afterwards a shard explores its units
// and every unit that races found in them add (its own coordinator copy decides those, as the
// work-stealing coordinator does): no messages between shards. Two shards may both add the same
// thread at the same node and explore it twice; that costs executions, never traces (each copy
// only puts siblings it knows were handed out to sleep). The root-thread split of dpor.ts
// (search.shard) is lopsided for DPOR: most root threads are covered by the first one's subtree.

import { ExplorerError } from "./errors.ts";
import { DEFAULT_FIELDS, type Shard } from "./config.ts";
import type { Explore, SearchContext } from "./search.ts";
import { StealCoordinator, SubtreeSearch, type Unit } from "./steal.ts";

export const UNITS_PER_SHARD = 4;
export const PRELUDE_EXECUTIONS = 2_000;

/** The DPOR search restricted to one shard of a static split (coverage carries the shard: it decides nothing alone). */
export function exploreDporShard(shard: Shard): Explore {
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count))
    throw new ExplorerError(`shard must be { index, count } with 0 <= index < count (got ${JSON.stringify(shard)})`);
  return (ctx) => {
    // Field footprints (search.fields) as in dpor.ts: every unit's search runs over them.
    const fields = (ctx.config.fields ?? DEFAULT_FIELDS) === true;
    const coverage = { kind: "exhaustive", reduction: "source-DPOR", ...(fields ? { footprints: "fields" as const } : {}), shard: `${index + 1}/${count}` } as const;
    const coord = new StealCoordinator();
    const send = coord.receive.bind(coord);
    const first = new SubtreeSearch(ctx.model, coord.take()!, ctx.maxSteps, send, fields);
    // Only shard 0 counts (and may stop on) the prelude's executions; the others re-run them silently.
    const mine = index === 0;
    const prelude: SearchContext = mine ? ctx : { ...ctx, visit: () => true, ran: () => {}, outOfBudget: () => false };
    let firstDone = false;
    for (let n = 0; coord.queued < count * UNITS_PER_SHARD && n < PRELUDE_EXECUTIONS; n++) {
      if (prelude.outOfBudget()) return { complete: false, coverage };
      const r = first.runOne(prelude);
      if (r === "stop") return { complete: false, coverage };
      if (r === "done") {
        firstDone = true;
        break;
      }
      const m = first.split();
      if (m) send(m);
    }
    const dealt: Unit[] = [];
    for (let u = coord.take(), k = 0; u; u = coord.take(), k++) if ((k + 1) % count === index) dealt.push(u);
    let cur: SubtreeSearch | null = mine && !firstDone ? first : null;
    for (;;) {
      if (!cur) {
        const u = dealt.shift() ?? coord.take();
        if (!u) return { complete: true, coverage };
        cur = new SubtreeSearch(ctx.model, u, ctx.maxSteps, send, fields);
      }
      if (ctx.outOfBudget()) return { complete: false, coverage };
      const r = cur.runOne(ctx);
      if (r === "stop") return { complete: false, coverage };
      if (r === "done") cur = null;
    }
  };
}
