// The contract between claim/check and the strategies.

import type { SearchConfig } from "./config.ts";
import type { Execution } from "./execution.ts";
import type { Model } from "./model.ts";

export type Coverage =
  | {
      readonly kind: "exhaustive"; readonly reduction: "source-DPOR" | "optimal-DPOR" | "none" | "state caching + sleep sets"; readonly shard?: string;
      /** source-DPOR over field footprints (search.fields): steps on a recorded object depend by the fields they touched. */
      readonly footprints?: "fields";
      /** stateful: distinct states stored (visited table plus terminal states). */
      readonly states?: number;
      /** stateful with symmetry reduction: the groups of interchangeable threads (symmetry.ts). */
      readonly symmetry?: string;
    }
  | { readonly kind: "bounded"; readonly preemptions: number }
  | { readonly kind: "sampled"; readonly strategy: "pct" | "random"; readonly runs: number; readonly seed: number; readonly depth?: number }
  /** One execution re-run from a replay token (BOOK_REPLAY): no verdict. */
  | { readonly kind: "replay"; readonly token: string };

export interface SearchContext {
  readonly model: Model<unknown>;
  readonly config: SearchConfig;
  readonly maxSteps: number;
  /** Called for every completed (not pruned) execution; return false to stop the search. */
  visit(x: Execution): boolean;
  /** Every claim's predicate on x, without counting x (symmetry.ts checks predicates are invariant). */
  holds?(x: Execution): readonly boolean[];
  /** True once the budget is spent. */
  outOfBudget(): boolean;
  /** Count every run, including pruned ones (for stats). */
  ran(x: Execution): void;
}

export interface SearchOutcome {
  /** The whole (bounded) tree was explored. */
  readonly complete: boolean;
  readonly coverage: Coverage;
}

export type Explore = (ctx: SearchContext) => SearchOutcome;
