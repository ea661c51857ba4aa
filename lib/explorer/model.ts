// A model: a named setup function that builds FRESH shared state for every
// execution and returns the threads to run and an optional final-state snapshot.

import type { ThreadBody } from "./effect.ts";
import { ExplorerError } from "./errors.ts";

export interface ModelInstance<F> {
  /** Named threads. Names appear in traces; their order fixes thread indices (and tokens). */
  readonly threads: Readonly<Record<string, ThreadBody>>;
  /** Snapshot of the final state, taken after the execution ends (use peek(), not yield). */
  readonly final?: () => F;
}

export interface Model<F = unknown> {
  readonly name: string;
  readonly setup: () => ModelInstance<F>;
}

export function model<F = Record<string, never>>(name: string, setup: () => ModelInstance<F>): Model<F> {
  if (typeof setup !== "function")
    throw new ExplorerError(`model("${name}") needs a setup function returning { threads, final }; pass () => ({ threads: { A: function* () {...} } }).`);
  return { name, setup };
}
