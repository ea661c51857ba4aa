// Findings: things an execution observed (deadlock, livelock, or any kind the model reports).

export interface Finding {
  /** "deadlock", "livelock", "bad-unlock", or a model-defined kind such as "uaf". */
  readonly kind: string;
  readonly message: string;
  /** Thread that reported it (absent for whole-execution findings like deadlock). */
  readonly thread?: string;
  /** Step index at which it was reported. */
  readonly step: number;
  readonly data?: unknown;
}

/** One edge of a deadlock's wait-for cycle. */
export interface WaitEdge {
  readonly thread: string;
  /** Object the thread is blocked on. */
  readonly waitsFor: string;
  /** Current holders of that object (empty for e.g. a completion nobody will signal). */
  readonly heldBy: readonly string[];
  /** What the blocked thread holds itself. */
  readonly holds: readonly string[];
  readonly op: string;
}

export interface DeadlockData {
  /** The wait-for cycle, if the blocked threads form one; else every blocked thread. */
  readonly cycle: readonly WaitEdge[];
  readonly blocked: readonly WaitEdge[];
}
