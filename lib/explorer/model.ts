// A model: a named setup function that builds FRESH shared state for every
// execution and returns the threads to run and an optional final-state snapshot.

import type { ThreadBody } from "./effect.ts";
import { ExplorerError } from "./errors.ts";

export interface ModelInstance<F> {
  /** Named threads. Names appear in traces; their order fixes thread indices (and tokens). */
  readonly threads: Readonly<Record<string, ThreadBody>>;
  /** Snapshot of the final state, taken after the execution ends (use peek(), not yield). */
  readonly final?: () => F;
  /**
   * Optional: groups of interchangeable threads (by name): identical code, only their index and
   * name differ. The stateful strategy then merges states that differ by a permutation of each
   * group (symmetry reduction, lib/explorer/symmetry.ts); the other strategies ignore it.
   */
  readonly symmetry?: readonly (readonly string[])[];
  /**
   * Optional: the machine's state now, as groups of objects of fields (StateView, state.ts),
   * for a witness's step-by-step state panel. Read-only (peek, never yield). Called only when a
   * witness is replayed for the book, never while searching. Setup code may also register one
   * with stateView(fn) (a kernel does, at boot).
   */
  readonly view?: () => unknown;
}

export interface Model<F = unknown> {
  readonly name: string;
  readonly setup: () => ModelInstance<F>;
}

export function model<F = Record<string, never>>(name: string, setup: () => ModelInstance<F>): Model<F> {
  if (typeof setup !== "function")
    throw new ExplorerError(`model("${name}") needs a setup function returning { threads, final }; pass () => ({ threads: { A: () => task() } }) with a module-level function* task() {...}.`);
  return { name, setup };
}
