// Error classes. Every message says what went wrong and ends with the next action.

/** Misuse of the explorer API (bad config, objects created outside a model, ...). */
export class ExplorerError extends Error {
  override name = "ExplorerError";
}

/** Model code did something nondeterministic (Math.random, Date.now, timers, Promise). */
export class DeterminismError extends Error {
  override name = "DeterminismError";
}

/** Model code threw. Carries the replay token of the execution that threw. */
export class ModelError extends Error {
  override name = "ModelError";
  constructor(message: string, readonly token: string, override readonly cause?: unknown) {
    super(message);
  }
}
