// The set of outcomes of a complete search (field-foot*.test.ts): each execution's final state
// and the kinds of its findings, so two strategies can be compared (DPOR on fields ≡ naive DFS).
import { check } from "../../lib/explorer/index.ts";
import type { Model } from "../../lib/explorer/index.ts";

export interface Program {
  readonly text: string;
  readonly model: Model<unknown>;
}

/** Every distinct (final state, findings) of a complete search, and its executions. */
export function outcomes(p: Program, search: { strategy: "dfs" | "dpor"; fields?: boolean }, budget = 30_000) {
  const all = new Set<string>();
  const r = check({
    title: p.text,
    model: p.model,
    predicate: (e) => (all.add(`${String(e.final)} ${e.findings.map((f) => f.kind).sort().join(",")}`), false),
    expect: "Never",
    search,
    budget: { executions: budget },
  });
  return { all: [...all].sort(), n: r.stats.executions, complete: r.complete };
}
