// Iterative preemption bounding: Musuvathi & Qadeer, "Iterative Context Bounding for
// Systematic Testing of Multithreaded Programs", PLDI'07 (CHESS).
//
// Level k explores every schedule with at most k preemptions and reports those with
// exactly k (the others were reported at a lower level), for k = 0..bound. A
// preemption is a switch away from a thread that could have continued; switching
// away from a blocked or finished thread is free. choose() values are explored
// exhaustively at every level. Deviation from the paper: no state caching and no
// partial-order reduction inside a level (re-running lower levels costs time, not soundness).

import { DEFAULT_PREEMPTIONS } from "./config.ts";
import { Execution } from "./execution.ts";
import type { Explore } from "./search.ts";
import { TreeScheduler } from "./tree.ts";

export const exploreBounded: Explore = (ctx) => {
  const bound = ctx.config.preemptions ?? DEFAULT_PREEMPTIONS;
  for (let k = 0; k <= bound; k++) {
    const sched = new TreeScheduler(k);
    for (;;) {
      if (ctx.outOfBudget()) return { complete: false, coverage: { kind: "bounded", preemptions: Math.max(0, k - 1) } };
      const x = new Execution(ctx.model, sched, ctx.maxSteps).run();
      ctx.ran(x);
      if (x.preemptions === k && !ctx.visit(x)) return { complete: false, coverage: { kind: "bounded", preemptions: k } };
      if (!sched.next()) break;
    }
  }
  return { complete: true, coverage: { kind: "bounded", preemptions: bound } };
};
