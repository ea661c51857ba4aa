// Search configuration: one documented object, every default a named constant.

export type StrategyName = "dfs" | "dpor" | "bounded" | "pct" | "random" | "stateful";

/** Default strategy: exhaustive with source-DPOR reduction. */
export const DEFAULT_STRATEGY: StrategyName = "dpor";
/** Preemption bound for "bounded" (CHESS found most bugs with <= 2). */
export const DEFAULT_PREEMPTIONS = 2;
/** Runs for the sampling strategies. */
export const DEFAULT_RUNS = 1000;
/** PCT bug depth d (d-1 priority change points). */
export const DEFAULT_PCT_DEPTH = 3;
export const DEFAULT_SEED = 1;
/** Steps per execution before it is cut and reported as "livelock". */
export const DEFAULT_MAX_STEPS = 10_000;
/**
 * A search budget counts work, never time: the same commit must give the same verdict, coverage,
 * counts and witness on a fast idle machine and on a slow busy one (issue 12).
 */
export const DEFAULT_BUDGET_EXECUTIONS = 100_000;
/** dpor: field footprints (SearchConfig.fields) when a claim does not say; never with optimal.
 *  scripts/check-fields.sh builds the book with it on, to compare against declared footprints. */
export const DEFAULT_FIELDS = false;
/**
 * dpor: optimal DPOR (wakeup trees, SearchConfig.optimal) when a claim does not say. Off: on the
 * book's kernel models it runs exactly the executions and runs source-DPOR does (their extra runs
 * are sleep-set-blocked ones of blocking steps and ending findings, where both fall back alike), in
 * the same CPU time, so it gains nothing yet, and its soundness fixes are new (lib/explorer/README.md,
 * "Optimal DPOR", for the measurement). Never with field footprints or a shard (source-DPOR).
 */
export const DEFAULT_OPTIMAL = false;
/** Measurement only (scripts/check-fields.sh): put the number and a hash of the distinct outcomes
 *  (final state and finding kinds) of every search in its stats. Off: records are unchanged. */
export const RECORD_OUTCOMES = false;
/** Steps over all executions of one search (about a minute of the kernel model on a 2-core machine). */
export const DEFAULT_BUDGET_STEPS = 20_000_000;
/** Witness minimisation: max preemption bound tried, and its own budget (executions and steps,
 *  whichever runs out first, never ms). The steps budget binds only witnesses hundreds of steps
 *  long (a random walk's): measured December 2026, every other minimisation in the book takes
 *  under 100,000 steps, and chapter 01's random-walk witnesses took 0.5-1 M each of the book's
 *  2.5 M minimisation steps, mostly bounding at k <= 3 for witnesses that need about 20. */
export const DEFAULT_MINIMISE_PREEMPTIONS = 3;
export const DEFAULT_MINIMISE_EXECUTIONS = 2_000;
export const DEFAULT_MINIMISE_STEPS = 250_000;

export interface Shard {
  /** 0-based shard index, < count. */
  readonly index: number;
  readonly count: number;
}

export interface SearchConfig {
  /** "dpor" (default, exhaustive), "dfs" (naive exhaustive), "stateful" (exhaustive, state caching), "bounded", "pct", "random". */
  readonly strategy?: StrategyName;
  /** bounded: max preemptions k (default DEFAULT_PREEMPTIONS). */
  readonly preemptions?: number;
  /** pct/random: number of executions (default DEFAULT_RUNS). */
  readonly runs?: number;
  /** pct: depth d (default DEFAULT_PCT_DEPTH). */
  readonly depth?: number;
  /** pct/random: PRNG seed (default DEFAULT_SEED). */
  readonly seed?: number;
  /** Per-execution step bound (default DEFAULT_MAX_STEPS). */
  readonly maxSteps?: number;
  /** Explore only one disjoint part of the tree (dfs, dpor; see shard.ts). */
  readonly shard?: Shard;
  /**
   * stateful: backtrack by restoring object snapshots (snapshot()/restore() on every object) and
   * re-feeding moved generators, instead of replaying from the root. Only for models that keep all
   * shared state in their objects (stateful-machine.ts). Default false.
   */
  readonly snapshots?: boolean;
  /**
   * stateful: the model's promise that a step hands its thread nothing but its result: no op's
   * run() (or enabled()) writes a variable of the thread, so the values returned into a thread
   * determine its local state. Without it a thread's history also records, before each of its
   * steps, the state of the objects the step touches (what its run() could read), which is sound
   * for any model but merges fewer states. snapshots: true needs it (a re-created generator is fed
   * results only). Default false.
   */
  readonly resultsOnly?: boolean;
  /**
   * dpor: optimal DPOR with wakeup trees (wakeup.ts): one execution per Mazurkiewicz trace on
   * programs without blocking steps, spawn() included. Default DEFAULT_OPTIMAL (false: source-DPOR).
   * Ignored with `shard` and with `fields`.
   */
  readonly optimal?: boolean;
  /**
   * dpor: field footprints (lib/explorer/README.md "Field footprints"): a step whose op carries a
   * FieldRecorder depends on other steps by the fields it actually touched, not by its object.
   * Not with `optimal`. Default false.
   */
  readonly fields?: boolean;
  /** Minimise the witness (default true). */
  readonly minimise?: boolean;
}

/** What a search may spend before it stops as Incomplete. Counts work, so it is machine-independent. */
export interface Budget {
  /** Stop after this many executions (default DEFAULT_BUDGET_EXECUTIONS). */
  readonly executions?: number;
  /** Stop after this many steps, summed over every run including pruned ones (default DEFAULT_BUDGET_STEPS). */
  readonly steps?: number;
}

export type SearchSpec = StrategyName | SearchConfig;

export function normaliseSearch(s: SearchSpec | undefined): SearchConfig {
  return typeof s === "string" ? { strategy: s } : (s ?? {});
}
