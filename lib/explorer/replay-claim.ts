// Replay mode: instead of searching, every claim re-runs one execution from a token and reports
// its trace. This is what the page's replay command does (`BOOK_REPLAY=<token> npm run -s chapter --
// <chapter> <block>`): the build passes the token to the chapter's runtime, which calls setReplayToken.
// Lives apart from claim.ts so that search code never has to know about it.

import { DEFAULT_MAX_STEPS, normaliseSearch } from "./config.ts";
import type { ClaimResult, ClaimSpec } from "./claim.ts";
import { replay, runDecisions } from "./replay.ts";
import { decodeToken } from "./token.ts";
import { viewFor } from "./subscriptions.ts";

let token: string | null = null;

/** While set, check() and claim() replay this token instead of searching (null: search again). */
export function setReplayToken(t: string | null): void {
  token = t;
}

export function replayToken(): string | null {
  return token;
}

/**
 * One execution, from the token. It establishes no verdict: `observed` is "Incomplete" and the
 * result always passes, so a replay never fails a block; its message carries the trace.
 */
export function replayClaim<F>(spec: ClaimSpec<F>, t: string): ClaimResult {
  const maxSteps = normaliseSearch(spec.search).maxSteps ?? DEFAULT_MAX_STEPS;
  const r = replay(spec.model, t, { maxSteps });
  const { x } = runDecisions(spec.model as never, decodeToken(t), maxSteps, false);
  const holds = !!spec.predicate(viewFor<F>(spec, x));
  const head = `${spec.id ?? spec.title}: replayed ${t} on model "${spec.model.name}": predicate ${holds ? "holds" : "does not hold"} (${r.steps} steps, ${r.preemptions} preemption(s))`;
  return {
    ...(spec.id ? { id: spec.id } : {}),
    title: spec.title,
    model: spec.model.name,
    strategy: normaliseSearch(spec.search).strategy ?? "dpor",
    expected: spec.expect,
    observed: "Incomplete",
    pass: true,
    complete: false,
    coverage: { kind: "replay", token: t },
    stats: { executions: 1, runs: 1, steps: r.steps, ms: 0 },
    counts: { true: holds ? 1 : 0, false: holds ? 0 : 1 },
    witness: { token: t, preemptions: r.preemptions, steps: r.steps, minimisation: "none (replay)", trace: r.trace, text: r.text, findings: r.findings, predicate: holds },
    message: [head, r.note ?? "", r.text].filter(Boolean).join("\n"),
    ...(spec.labels ? { labels: { ...spec.labels } } : {}),
    ...(spec.evidence ? { evidence: spec.evidence } : {}),
  };
}
