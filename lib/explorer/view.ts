// What a claim's predicate sees of one finished execution.

import type { Execution, Status } from "./execution.ts";
import type { Finding } from "./finding.ts";

export interface ExecutionView<F = any> {
  /** The model's final() snapshot ({} if the model has no final()). */
  readonly final: F;
  readonly findings: readonly Finding[];
  /** True if some finding has this kind ("deadlock", "livelock", "uaf", ...). */
  has(kind: string): boolean;
  readonly steps: number;
  /** How the execution ended: "finished", "deadlock", "stopped" (finding with end), "step-bound". */
  readonly status: Status;
}

export function viewOf<F>(x: Execution): ExecutionView<F> {
  const findings = x.findings;
  return {
    final: (x.final ?? {}) as F,
    findings,
    has: (kind) => findings.some((f) => f.kind === kind),
    // A getter: the stateful strategy's merged states have no step count and refuse to give one.
    get steps() {
      return x.steps;
    },
    status: x.status,
  };
}
