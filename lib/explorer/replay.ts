// Replaying a token, and the default schedule used after it ends.
//
// Default policy (used after the token's decisions run out, and wherever a decision
// no longer fits a changed model): keep running the last thread if it can run,
// else the lowest-numbered runnable thread; choose() returns its first alternative.
// Because tokens omit trailing default decisions, a token is usually short.

import { DEFAULT_MAX_STEPS } from "./config.ts";
import { Execution, type Scheduler } from "./execution.ts";
import type { Finding } from "./finding.ts";
import type { Model } from "./model.ts";
import { decodeToken } from "./token.ts";
import { formatTrace, type TraceEvent } from "./trace.ts";

export class DecisionScheduler implements Scheduler {
  private i = 0;
  mismatch = "";
  constructor(private readonly decisions: readonly number[]) {}
  pickThread(x: Execution, enabled: number): number {
    if (this.i < this.decisions.length) {
      const d = this.decisions[this.i++];
      if (d < 31 && enabled & (1 << d)) return d;
      this.miss(`decision ${this.i}: thread #${d} is not runnable at step ${x.steps}`);
    }
    return x.defaultThread(enabled);
  }
  pickChoice(x: Execution, arity: number, label: string): number {
    if (this.i < this.decisions.length) {
      const d = this.decisions[this.i++];
      if (d < arity) return d;
      this.miss(`decision ${this.i}: choose("${label}") has no alternative #${d} at step ${x.steps}`);
    }
    return 0;
  }
  private miss(what: string): void {
    if (!this.mismatch) this.mismatch = what;
    this.i = this.decisions.length; // the rest of the token no longer means anything
  }
  get unused(): number {
    return this.decisions.length - this.i;
  }
}

export interface ReplayResult<F = any> {
  readonly token: string;
  readonly trace: TraceEvent[];
  readonly findings: Finding[];
  readonly final: F;
  readonly status: string;
  readonly steps: number;
  readonly preemptions: number;
  /** formatTrace(trace, findings). */
  readonly text: string;
  /** Set when the token did not fit the model (it changed) and the default schedule took over. */
  readonly note?: string;
}

/** Run a model once along a decision list, with full tracing. */
export function runDecisions(model: Model<unknown>, decisions: readonly number[], maxSteps = DEFAULT_MAX_STEPS, detail = true): { x: Execution; sched: DecisionScheduler } {
  const sched = new DecisionScheduler(decisions);
  const x = new Execution(model, sched, maxSteps, detail).run();
  return { x, sched };
}

/** Re-run the execution a replay token describes. Never throws on a stale token: see note. */
export function replay<F>(model: Model<F>, token: string, opts: { maxSteps?: number } = {}): ReplayResult<F> {
  const decisions = decodeToken(token);
  const { x, sched } = runDecisions(model as Model<unknown>, decisions, opts.maxSteps ?? DEFAULT_MAX_STEPS);
  let note: string | undefined;
  if (sched.mismatch) note = `The token does not fit model "${model.name}" any more (${sched.mismatch}); continued with the default schedule from there. Re-run the claim to get a fresh token.`;
  else if (sched.unused > 0) note = `The execution ended with ${sched.unused} decision(s) of the token unused; the model probably changed. Re-run the claim to get a fresh token.`;
  return {
    token,
    trace: x.trace,
    findings: x.findings,
    final: (x.final ?? {}) as F,
    status: x.status,
    steps: x.steps,
    preemptions: x.preemptions,
    text: formatTrace(x.trace, x.findings),
    ...(note ? { note } : {}),
  };
}
