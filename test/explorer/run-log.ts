// A search driven by hand for tests that compare two searches run by run: every execution started
// (its decisions and how it ended, sleep-set-blocked ones included), the distinct outcomes (final
// state and finding kinds, sorted), and whether it finished within `limit` executions.
import type { Execution } from "../../lib/explorer/execution.ts";
import type { Model } from "../../lib/explorer/model.ts";
import type { Explore } from "../../lib/explorer/search.ts";

export interface RunLog {
  readonly runs: string[];
  readonly outcomes: string[];
  readonly complete: boolean;
}

export function runLog(m: Model<unknown>, how: Explore, limit: number): RunLog {
  const runs: string[] = [];
  const outcomes = new Set<string>();
  let executions = 0;
  const r = how({
    model: m, config: {}, maxSteps: 200,
    ran(x: Execution) {
      runs.push(`${x.decisions.join(",")}:${x.status}`);
    },
    visit(x: Execution) {
      executions++;
      outcomes.add(JSON.stringify(x.final) + "|" + [...new Set(x.findings.map((f) => f.kind))].sort().join(","));
      return true;
    },
    outOfBudget: () => executions >= limit,
  });
  return { runs, outcomes: [...outcomes].sort(), complete: r.complete };
}
