// What a claim's predicate sees of one finished execution.

import { Execution, type Status } from "./execution.ts";
import type { Finding } from "./finding.ts";

export interface ExecutionView<F = any> {
  /** The model's final() snapshot ({} if the model has no final()). */
  readonly final: F;
  readonly findings: readonly Finding[];
  /** True if some finding has this kind ("deadlock", "livelock", "uaf", ...). */
  has(kind: string): boolean;
  /** The findings of this kind. A claim that declares `reads` must read findings through this or has(). */
  findingsOf(kind: string): readonly Finding[];
  readonly steps: number;
  /** How the execution ended: "finished", "deadlock", "stopped" (finding with end), "step-bound". */
  readonly status: Status;
}

export function viewOf<F>(x: Execution): ExecutionView<F> {
  const findings = x.findings;
  // The stateful strategy's merged states are plain objects whose steps getter refuses: only a
  // predicate that reads e.steps may throw, so their view reads it lazily.
  if (!(x instanceof Execution)) return lazyStepsView(x, findings);
  // Plain values only: an accessor's closure would keep the execution (and its kernel) alive as
  // long as the view, and scavenges would promote every execution of a search to old space.
  return {
    final: (x.final ?? {}) as F,
    findings,
    has: (kind) => findings.some((f) => f.kind === kind),
    findingsOf: (kind) => findings.filter((f) => f.kind === kind),
    steps: x.steps,
    status: x.status,
  };
}

function lazyStepsView<F>(x: Execution, findings: readonly Finding[]): ExecutionView<F> {
  return {
    final: (x.final ?? {}) as F,
    findings,
    has: (kind) => findings.some((f) => f.kind === kind),
    findingsOf: (kind) => findings.filter((f) => f.kind === kind),
    get steps() {
      return x.steps;
    },
    status: x.status,
  };
}
