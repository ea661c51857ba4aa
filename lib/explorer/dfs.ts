// Naive exhaustive DFS over every schedule and every choose() value. No reduction:
// it is the oracle the reducing strategies are tested against.

import { Execution } from "./execution.ts";
import type { Explore } from "./search.ts";
import { TreeScheduler } from "./tree.ts";

export const exploreDfs: Explore = (ctx) => {
  const sched = new TreeScheduler(Infinity, ctx.config.shard);
  const shard = ctx.config.shard ? `${ctx.config.shard.index + 1}/${ctx.config.shard.count}` : undefined;
  const coverage = { kind: "exhaustive", reduction: "none", ...(shard ? { shard } : {}) } as const;
  for (;;) {
    if (ctx.outOfBudget()) return { complete: false, coverage };
    const x = new Execution(ctx.model, sched, ctx.maxSteps).run();
    ctx.ran(x);
    // A pruned run stopped at a subtree owned by another shard; finish() is not called for it.
    if (x.status !== "pruned" && sched.finish() && !ctx.visit(x)) return { complete: false, coverage };
    if (!sched.next()) return { complete: true, coverage };
  }
};
