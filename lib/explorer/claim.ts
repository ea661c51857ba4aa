// Claims: "under this model, predicate P holds Never / Sometimes / Always".
//
// Verdict rules:
//  * P true in some executions and false in others -> Sometimes (as soon as both are
//    seen; the search stops early).
//  * Otherwise Never/Always only if the search was complete AND exhaustive or
//    bounded (the bound is shown in coverage). A sampled or budget-cut search
//    observes "Incomplete": it can refute Never/Always with a counterexample, never
//    establish them.

import { fnv1a } from "./fnv.ts";
import {
  DEFAULT_BUDGET_EXECUTIONS, RECORD_OUTCOMES, DEFAULT_BUDGET_STEPS, DEFAULT_MAX_STEPS, DEFAULT_MINIMISE_EXECUTIONS, DEFAULT_MINIMISE_STEPS,
  DEFAULT_MINIMISE_PREEMPTIONS, DEFAULT_STRATEGY, type Budget, type SearchConfig, type SearchSpec, type StrategyName, normaliseSearch,
} from "./config.ts";
import { exploreBounded } from "./bounded.ts";
import { exploreDfs } from "./dfs.ts";
import { exploreDpor } from "./dpor.ts";
import { ExplorerError } from "./errors.ts";
import { type Evidence, validateEvidence } from "./evidence.ts";
import type { Execution } from "./execution.ts";
import type { Finding } from "./finding.ts";
import { clockMs, guarded, unguarded } from "./guard.ts";
import { minimise } from "./minimise.ts";
import type { Model } from "./model.ts";
import { explorePct } from "./pct.ts";
import { getHeartbeat, getProgress, getProgressClock, PROGRESS_AFTER_MS, PROGRESS_EVERY_MS } from "./progress.ts";
import { exploreRandom } from "./random.ts";
import { exploreStateful } from "./stateful.ts";
import { replay, runDecisions } from "./replay.ts";
import type { Coverage, Explore } from "./search.ts";
import { encodeToken } from "./token.ts";
import { replayClaim, replayToken } from "./replay-claim.ts";
import type { TraceEvent } from "./trace.ts";
import type { ExecutionView } from "./view.ts";
import { readsOf, sortedReads, subscribedModel, viewFor } from "./subscriptions.ts";

export type Expectation = "Never" | "Sometimes" | "Always";
export type Observation = Expectation | "Incomplete";

export interface ClaimSpec<F = any> {
  /** Optional id shown in results, e.g. "C03.2". */
  readonly id?: string;
  readonly title: string;
  readonly model: Model<F>;
  /** Evaluated on every finished execution. */
  readonly predicate: (e: ExecutionView<F>) => boolean;
  /**
   * The finding kinds the predicate reads (subscriptions.ts), e.g. ["uaf"]; [] for a predicate on
   * final() alone. Absent: every kind. When every claim of a search declares it, the model leaves
   * out the ghost state of oracles whose kinds none reads, and the predicate's view refuses (throws)
   * to answer about any other kind.
   */
  readonly reads?: readonly string[];
  readonly expect: Expectation;
  /** Strategy and its parameters; default { strategy: "dpor" }. */
  readonly search?: SearchSpec;
  readonly budget?: Budget;
  /**
   * What the claim is about, for the book's scoreboard (design × invariant × era), e.g.
   * { design: "amdgpu-2018", era: "2018", invariant: "stale-install" }. Carried into the result.
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** What the verdict rests on outside the model (evidence.ts); checked, carried into the result. */
  readonly evidence?: Evidence;
}

export interface Witness {
  /** Replay token: replay(model, token) reproduces this execution. */
  readonly token: string;
  readonly preemptions: number;
  readonly steps: number;
  /** Which minimisation ran, and how far it got. */
  readonly minimisation: string;
  readonly trace: TraceEvent[];
  /** formatTrace(trace, findings). */
  readonly text: string;
  readonly findings: Finding[];
  /** Predicate value on this execution. */
  readonly predicate: boolean;
}

export interface Stats {
  /** Executions evaluated (pruned/duplicate runs excluded). */
  readonly executions: number;
  /** Every run, including sleep-set-blocked and re-run ones. */
  readonly runs: number;
  readonly steps: number;
  readonly ms: number;
  /** Only with RECORD_OUTCOMES (config.ts): "count:hash" of the distinct outcomes seen. */
  readonly outcomes?: string;
}

export interface ClaimResult {
  readonly id?: string;
  readonly title: string;
  readonly model: string;
  readonly strategy: StrategyName;
  readonly expected: Expectation;
  readonly observed: Observation;
  readonly pass: boolean;
  readonly complete: boolean;
  readonly coverage: Coverage;
  readonly stats: Stats;
  readonly counts: { readonly true: number; readonly false: number };
  /** Counterexample (on failure) or an example of the predicate holding (for Sometimes). */
  readonly witness?: Witness;
  readonly message: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly evidence?: Evidence;
  /** The finding kinds the predicate was allowed to read (ClaimSpec.reads), sorted; absent: every
   *  kind. It shapes the search (oracles no claim reads keep no state), so the record says it. */
  readonly reads?: readonly string[];
  /** Decided by one search that several claims shared (group.ts): how many. Absent: its own search. */
  readonly sharedBy?: number;
  /** That shared search ran for an earlier claim of the group, whose record carries its time:
   *  this record's stats.ms is only its own decision. */
  readonly searchedEarlier?: boolean;
}

/** Thrown by claim() when the observation differs from the expectation. */
export class ClaimError extends Error {
  override name = "ClaimError";
  constructor(readonly result: ClaimResult) {
    super(result.message);
  }
}

const STRATEGIES: Readonly<Record<StrategyName, Explore>> = Object.freeze({ dfs: exploreDfs, dpor: exploreDpor, bounded: exploreBounded, pct: explorePct, random: exploreRandom, stateful: exploreStateful });

/** Receives every result, with the spec it decided (the book replays its witness's states). */
export type ClaimSink = (r: ClaimResult, spec: ClaimSpec<any>) => void;
let sink: ClaimSink | null = null;
/** Every claim()/check() result is also passed to fn (the docs pipeline collects them). */
export function setClaimSink(fn: ClaimSink | null): void {
  sink = fn;
}

/** The raw outcome of a search, before the verdict; what shards produce and merge. */
export interface SearchRecord {
  readonly complete: boolean;
  readonly coverage: Coverage;
  readonly stats: Stats;
  readonly counts: { true: number; false: number };
  /** Decisions of the first execution with predicate true / false. */
  readonly firstTrue?: number[];
  readonly firstFalse?: number[];
  /**
   * Executions cut at search.maxSteps (status "step-bound"), and where the first was cut. A cut
   * execution's future is unexplored, so no Never/Always is established over it; when every
   * execution was cut, a thread never stops: a livelock.
   */
  readonly cut?: { readonly executions: number; readonly thread: string; readonly label: string };
}

function validate(cfg: SearchConfig, name: StrategyName): void {
  const bad = (what: string) => {
    throw new ExplorerError(`search.${what} for strategy "${name}"; fix the claim's search options.`);
  };
  if (cfg.shard) {
    if (name !== "dfs" && name !== "dpor") bad(`shard is only supported for "dfs" and "dpor", not`);
    const { index, count } = cfg.shard;
    if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) bad(`shard must be { index, count } with 0 <= index < count (got ${JSON.stringify(cfg.shard)})`);
  }
  if (cfg.optimal !== undefined && name !== "dpor") bad(`optimal (wakeup trees) is only for "dpor", not`);
  if (cfg.fields && name !== "dpor") bad(`fields (field footprints) is only for "dpor", not`);
  if (cfg.fields && cfg.optimal) bad(`fields (field footprints) is not for optimal DPOR (wakeup trees keep per-execution object ids), so not`);
  if (cfg.preemptions !== undefined && !(Number.isInteger(cfg.preemptions) && cfg.preemptions >= 0)) bad(`preemptions must be a non-negative integer (got ${cfg.preemptions})`);
  if (cfg.runs !== undefined && !(Number.isInteger(cfg.runs) && cfg.runs >= 1)) bad(`runs must be a positive integer (got ${cfg.runs})`);
  if (cfg.depth !== undefined && !(Number.isInteger(cfg.depth) && cfg.depth >= 1)) bad(`depth must be a positive integer (got ${cfg.depth})`);
  if (cfg.maxSteps !== undefined && !(Number.isInteger(cfg.maxSteps) && cfg.maxSteps >= 1)) bad(`maxSteps must be a positive integer (got ${cfg.maxSteps})`);
}

function decisionsOf(x: Execution): number[] {
  let n = x.decisions.length;
  while (n > 0 && x.isDefault[n - 1]) n--;
  return x.decisions.slice(0, n);
}

/** Run the search for a spec without deciding anything. Used by check() and by shards. */
export function search<F>(spec: ClaimSpec<F>, opts: { stopEarly?: boolean; explore?: Explore } = {}): SearchRecord {
  return searchAll([spec], opts)[0];
}

/** What one spec of a shared search has seen, and where its own search would have stopped. */
interface Track {
  readonly counts: { true: number; false: number };
  firstTrue?: number[];
  firstFalse?: number[];
  /** Set at the execution where both sides were first seen: a lone search stops right there. */
  stopped?: { readonly executions: number; readonly runs: number; readonly steps: number; readonly ms: number; readonly cut: number; readonly level: number };
}

/** The key under which several specs can share one search (same strategy, parameters and budget). */
export function searchKey(spec: ClaimSpec<any>): string {
  const cfg = normaliseSearch(spec.search);
  return JSON.stringify({
    ...cfg, strategy: cfg.strategy ?? DEFAULT_STRATEGY, maxSteps: cfg.maxSteps ?? DEFAULT_MAX_STEPS,
    budget: [spec.budget?.executions ?? DEFAULT_BUDGET_EXECUTIONS, spec.budget?.steps ?? DEFAULT_BUDGET_STEPS],
    // What the search subscribes to shapes its tree: specs share a search only with the same reads.
    ...(spec.reads !== undefined ? { reads: sortedReads(spec) } : {}),
  });
}

/** Can these specs share one search? Throws an ExplorerError naming the first spec that differs. */
export function checkSameSearch(specs: readonly ClaimSpec<any>[]): void {
  if (specs.length === 0) throw new ExplorerError("searchAll() needs at least one claim spec.");
  const name = (i: number) => `spec ${i} (${specs[i].id ?? ""} "${specs[i].title}")`;
  const key = searchKey(specs[0]);
  // A stateful search's coverage counts the states stored, which a claim frozen early would not
  // have reached alone; until stoppedCoverage() can say how many, stateful claims search alone.
  if (specs.length > 1 && normaliseSearch(specs[0].search).strategy === "stateful")
    throw new ExplorerError(`${name(0)} uses the stateful strategy, whose coverage (states stored) depends on where the search stops: decide each stateful claim on its own with claim().`);
  for (let i = 1; i < specs.length; i++) {
    if (specs[i].model !== specs[0].model)
      throw new ExplorerError(`${name(i)} explores model "${specs[i].model.name}", not the model object of ${name(0)} ("${specs[0].model.name}"). One search decides several claims only over one model object: build the model once (const m = …) and pass it to each, or decide this claim on its own with claim().`);
    if (searchKey(specs[i]) !== key)
      throw new ExplorerError(`${name(i)} has search/budget ${searchKey(specs[i])}, ${name(0)} has ${key}. One search decides several claims only with the same search options and budget: give them the same, or decide this claim on its own with claim().`);
  }
}

/** Where a lone search that stopped early would have reported its coverage. */
function stoppedCoverage(c: Coverage, level: number, executions: number): Coverage {
  if (c.kind === "bounded") return { kind: "bounded", preemptions: level };
  if (c.kind === "sampled") return { ...c, runs: executions };
  return c;
}

/**
 * One search for several specs over the same model object, search and budget (checkSameSearch):
 * every finished execution is given to the predicate of every spec still undecided. Returns, for
 * each spec, exactly the record search(spec) gives alone: a spec that has seen both sides is
 * frozen at that execution (a lone search stops there: same counts, stats, witnesses and
 * coverage), and the shared search goes on until every spec is frozen or the search ends. The
 * order of executions never depends on a predicate, so the executions a spec sees are the ones
 * its lone search would see. Only stats.ms differs: a frozen spec's is the time until it froze.
 */
export function searchAll<F>(specs: readonly ClaimSpec<F>[], opts: { stopEarly?: boolean; explore?: Explore } = {}): SearchRecord[] {
  checkSameSearch(specs);
  const spec = specs[0];
  const cfg: SearchConfig = normaliseSearch(spec.search);
  const name = cfg.strategy ?? DEFAULT_STRATEGY;
  // opts.explore: a strategy run by someone else's loop (a work-stealing unit, steal.ts).
  const strategy = opts.explore ?? STRATEGIES[name];
  if (!strategy) throw new ExplorerError(`Unknown search strategy "${String(name)}"; use one of ${Object.keys(STRATEGIES).join(", ")}.`);
  validate(cfg, name);
  // The determinism guard stays installed for the whole search, so each Execution.run() only
  // bumps its depth count instead of swapping globals twice per execution; progress lines,
  // which write to stderr, are printed outside it (unguarded).
  const explore: Explore = (ctx) => guarded(() => strategy(ctx));
  const maxExec = spec.budget?.executions ?? DEFAULT_BUDGET_EXECUTIONS;
  const maxStepsTotal = spec.budget?.steps ?? DEFAULT_BUDGET_STEPS;
  const clock = getProgressClock() ?? clockMs;
  const t0 = clock();
  let executions = 0, runs = 0, steps = 0, lastReport = t0, lastDepth = 0;
  const tracks: Track[] = specs.map(() => ({ counts: { true: 0, false: 0 } }));
  const reads = specs.map((s) => readsOf(s));
  const seen: Set<string> | null = RECORD_OUTCOMES ? new Set() : null;
  let open = tracks.length;
  let cut = 0, cutAt: { thread: string; label: string } | undefined;
  const stopEarly = opts.stopEarly ?? true;
  const progress = getProgress();
  const label = specs.length === 1 ? (spec.id ?? spec.title) : `${spec.id ?? spec.title} (+${specs.length - 1} in one search)`;
  getHeartbeat()?.claim(label);
  const outcome = explore({
    model: subscribedModel(spec.model as Model<unknown>, specs),
    config: cfg,
    maxSteps: cfg.maxSteps ?? DEFAULT_MAX_STEPS,
    ran(x) {
      runs++;
      steps += x.steps;
      lastDepth = x.steps;
    },
    visit(x) {
      executions++;
      if (seen !== null) seen.add(outcomeKey(x));
      if (x.status === "step-bound") {
        cut++;
        cutAt ??= x.cutAt;
      }
      for (let i = 0; i < specs.length; i++) {
        const tr = tracks[i];
        if (tr.stopped) continue;
        if (specs[i].predicate(viewFor<F>(specs[i], x, reads[i]))) {
          tr.counts.true++;
          tr.firstTrue ??= decisionsOf(x);
        } else {
          tr.counts.false++;
          tr.firstFalse ??= decisionsOf(x);
        }
        if (stopEarly && tr.counts.true > 0 && tr.counts.false > 0) {
          tr.stopped = { executions, runs, steps, ms: clock() - t0, cut, level: x.preemptions };
          open--;
        }
      }
      return open > 0;
    },
    holds(x) {
      return specs.map((sp, i) => !!sp.predicate(viewFor<F>(sp, x, reads[i])));
    },
    outOfBudget() {
      // The clock only paces progress lines; it never decides whether the search goes on.
      if (progress) {
        const now = clock();
        if (now - t0 >= PROGRESS_AFTER_MS && now - lastReport >= PROGRESS_EVERY_MS) {
          lastReport = now;
          unguarded(() => progress({ claim: label, executions, rate: Math.round((executions * 1000) / (now - t0)), depth: lastDepth, ms: now - t0 }));
        }
      }
      return executions >= maxExec || steps >= maxStepsTotal;
    },
  });
  const ms = clock() - t0;
  if (progress && lastReport !== t0) progress({ claim: label, executions, rate: Math.round((executions * 1000) / Math.max(1, ms)), depth: lastDepth, ms, done: true });
  return tracks.map((tr) => {
    const s = tr.stopped;
    const n = s ? s.cut : cut;
    return {
      complete: s ? false : outcome.complete,
      // The specs frozen at the execution that ended the search get the strategy's own coverage;
      // those frozen earlier, what the strategy would have said had it stopped there.
      coverage: s && !(open === 0 && s.executions === executions) ? stoppedCoverage(outcome.coverage, s.level, s.executions) : outcome.coverage,
      stats: { ...(s ? { executions: s.executions, runs: s.runs, steps: s.steps, ms: s.ms } : { executions, runs, steps, ms }), ...(seen !== null ? { outcomes: outcomesDigest(seen) } : {}) },
      counts: tr.counts, firstTrue: tr.firstTrue, firstFalse: tr.firstFalse,
      ...(n > 0 && cutAt ? { cut: { executions: n, ...cutAt } } : {}),
    };
  });
}

/** RECORD_OUTCOMES: an execution's outcome, its status, final state and finding kinds. */
function outcomeKey(x: Execution): string {
  let f: string;
  try {
    f = JSON.stringify(x.final) ?? "undefined";
  } catch {
    f = String(x.final);
  }
  return `${x.status} ${f} ${x.findings.map((g) => g.kind).sort().join(",")}`;
}
/** "count:hash" of a set of outcomes (FNV-1a over the sorted keys). */
function outcomesDigest(seen: ReadonlySet<string>): string {
  const keys = [...seen].sort();
  return `${seen.size}:${fnv1a(keys.map((k) => `${k}\n`).join("")).toString(16)}`;
}

export function describeCoverage(c: Coverage): string {
  if (c.kind === "replay") return `replay of one execution (${c.token}): establishes no verdict`;
  if (c.kind === "exhaustive") return `exhaustive (${c.reduction === "none" ? "no reduction" : c.reduction}${c.footprints === "fields" ? ", field footprints" : ""}${c.states !== undefined ? `, ${c.states} states` : ""})${c.shard ? `, shard ${c.shard}` : ""}`;
  if (c.kind === "bounded") return `bounded: all schedules with <= ${c.preemptions} preemption(s)`;
  return `sampled: ${c.runs} ${c.strategy} run(s), seed ${c.seed}${c.depth !== undefined ? `, depth ${c.depth}` : ""}`;
}

/** Turn a search record into a verdict, witness and message. */
export function decide<F>(spec: ClaimSpec<F>, rec: SearchRecord): ClaimResult {
  const cfg = normaliseSearch(spec.search);
  const { true: t, false: f } = rec.counts;
  // One shard covers part of the tree: it can find witnesses but establishes nothing alone.
  const partial = rec.coverage.kind === "exhaustive" && rec.coverage.shard !== undefined;
  const establishes = rec.coverage.kind !== "sampled" && !partial;
  // An execution cut at maxSteps has an unexplored future: no Never/Always over it is a proof.
  const livelock = rec.cut !== undefined && rec.cut.executions === t + f;
  const observed: Observation = t > 0 && f > 0 ? "Sometimes" : rec.complete && establishes && t + f > 0 && !rec.cut ? (t > 0 ? "Always" : "Never") : "Incomplete";
  const pass = observed === spec.expect;
  // Counterexample for Never/Always, an example of P for Sometimes.
  // Sometimes: an example only once both sides were seen (a lone side proves nothing).
  const target = spec.expect === "Always" ? false : true;
  const ds = spec.expect === "Sometimes" && !(t > 0 && f > 0) ? undefined : target ? rec.firstTrue : rec.firstFalse;
  const maxSteps = cfg.maxSteps ?? DEFAULT_MAX_STEPS;
  let witness: Witness | undefined;
  if (ds) {
    let decisions = ds;
    let minimisation = "none (disabled)";
    if (cfg.minimise !== false) {
      // On the model itself: every oracle on (subscriptions.ts), the same schedule.
      const reads = readsOf(spec);
      const isWitness = (x: Execution) => !!spec.predicate(viewFor<F>(spec, x, reads)) === target;
      const m = minimise(spec.model as Model<unknown>, isWitness, replayExecution(spec.model as Model<unknown>, ds, maxSteps), {
        maxPreemptions: DEFAULT_MINIMISE_PREEMPTIONS, executions: DEFAULT_MINIMISE_EXECUTIONS, steps: DEFAULT_MINIMISE_STEPS, maxSteps,
        // The bounded strategy's first witness has the fewest preemptions (bounded.ts runs level by level).
        fewestPreemptions: rec.coverage.kind === "bounded",
      });
      decisions = m.decisions;
      minimisation = m.minimisation;
    }
    const token = encodeToken(decisions);
    const r = replay(spec.model, token, { maxSteps });
    witness = { token, preemptions: r.preemptions, steps: r.steps, minimisation, trace: r.trace, text: r.text, findings: r.findings, predicate: target };
  }
  const head = `${spec.id ? spec.id + " " : ""}"${spec.title}" (model "${spec.model.name}"): expected ${spec.expect}, observed ${observed} — ${pass ? "PASS" : "FAIL"}`;
  const lines = [head, `  predicate true in ${t}, false in ${f} execution(s); coverage: ${describeCoverage(rec.coverage)}; ${rec.stats.executions} executions, ${rec.stats.steps} steps`];
  if (rec.cut && livelock && observed === "Incomplete")
    lines.push(`  Livelock: every execution reached the step bound (${maxSteps} steps) in thread "${rec.cut.thread}" at ${rec.cut.label}. A thread that never finishes decides nothing; fix the loop, or raise search.maxSteps if the model legitimately needs more steps.`);
  else if (rec.cut)
    lines.push(`  ${rec.cut.executions} of ${t + f} execution(s) reached the step bound (${maxSteps} steps), first in thread "${rec.cut.thread}" at ${rec.cut.label}: their futures are unexplored, so ${spec.expect === "Sometimes" ? "only a Sometimes can be observed" : `${spec.expect} cannot be established`}. Raise search.maxSteps, or end the loop.`);
  if (rec.cut && observed === "Incomplete") {
    // said above: not a budget to raise
  } else if (partial && observed === "Incomplete")
    lines.push(`  This is one shard (${rec.coverage.kind === "exhaustive" ? rec.coverage.shard : ""}) of the search; run every shard and decide(spec, mergeRecords(records)) to establish ${spec.expect}.`);
  else if (observed === "Incomplete")
    lines.push(
      establishes
        ? `  The search stopped (budget) before covering every execution, so ${spec.expect} cannot be established. Raise budget.executions/budget.steps, shrink the model, or use { strategy: "bounded" } and state the bound.`
        : `  A sampled search (${rec.coverage.kind === "sampled" ? rec.coverage.strategy : ""}) can find executions but never proves Never/Always. Use { strategy: "dpor" } or "bounded" to establish it.`,
    );
  if (witness) {
    const what = pass ? "example where the predicate holds" : `counterexample (predicate ${target})`;
    lines.push(`  ${what}: ${witness.preemptions} preemption(s), ${witness.steps} step(s); minimisation: ${witness.minimisation}`);
    lines.push(witness.text.split("\n").map((l) => "    " + l).join("\n"));
    lines.push(`  Replay: replay(model, "${witness.token}")`);
  } else if (!pass && observed !== "Incomplete") {
    lines.push(
      spec.expect === "Sometimes"
        ? `  The predicate is ${observed === "Always" ? "true" : "false"} in every execution, so no single execution is a counterexample. Check the predicate and the model's final() state.`
        : `  No execution has the predicate ${target}, so there is no witness to show. Check the predicate and the model's final() state.`,
    );
  }
  return {
    ...(spec.id ? { id: spec.id } : {}),
    title: spec.title,
    model: spec.model.name,
    strategy: cfg.strategy ?? DEFAULT_STRATEGY,
    expected: spec.expect,
    observed,
    pass,
    complete: rec.complete,
    coverage: rec.coverage,
    stats: rec.stats,
    counts: { ...rec.counts },
    ...(witness ? { witness } : {}),
    message: lines.join("\n"),
    ...(spec.labels ? { labels: { ...spec.labels } } : {}),
    ...(spec.evidence ? { evidence: copyEvidence(spec.evidence) } : {}),
    ...(spec.reads !== undefined ? { reads: sortedReads(spec) } : {}),
  };
}

const copyEvidence = (e: Evidence): Evidence => ({
  kernels: [...e.kernels],
  ...(e.commits ? { commits: e.commits.map((c) => ({ id: c.id, title: c.title })) } : {}),
  ...(e.analysis ? { analysis: [...e.analysis] } : {}),
});

let gate: ((spec: ClaimSpec) => void) | null = null;
/**
 * fn sees every spec before its search and may throw to refuse it (the book refuses a claim that
 * speaks of an era without evidence); the explorer itself has no opinion on labels.
 */
export function setClaimGate(fn: ((spec: ClaimSpec) => void) | null): void {
  gate = fn;
}

const replayExecution = (m: Model<unknown>, ds: number[], maxSteps: number): Execution => runDecisions(m, ds, maxSteps, false).x;

/** Explore and decide; never throws on a failed claim (see claim()). */
export function check<F>(spec: ClaimSpec<F>): ClaimResult {
  admitClaim(spec);
  const t = replayToken();
  const result = t !== null ? replayClaim(spec, t) : decide(spec, search(spec));
  reportClaim(result, spec);
  return result;
}

/** What check() does before a spec's search: its evidence is checked and the gate may refuse it. */
export function admitClaim<F>(spec: ClaimSpec<F>): void {
  if (spec.evidence !== undefined) validateEvidence(spec.evidence, spec.id ?? `"${spec.title}"`);
  gate?.(spec);
}

/** What check() does with a result: the sink gets it (group.ts decides several specs per search). */
export function reportClaim<F>(result: ClaimResult, spec: ClaimSpec<F>): void {
  sink?.(result, spec);
}

/** Like check(), but throws ClaimError (message = the evidence) unless observed === expected. */
export function claim<F>(spec: ClaimSpec<F>): ClaimResult {
  const result = check(spec);
  if (!result.pass) throw new ClaimError(result);
  return result;
}

/** Combine the records of disjoint shards into the record of the whole search. */
export function mergeRecords(parts: readonly SearchRecord[]): SearchRecord {
  if (parts.length === 0) throw new ExplorerError("mergeRecords() needs at least one shard record; run every shard first.");
  // Only exhaustive searches are sharded: a bounded record's first witness is the fewest-preemption
  // one (decide relies on it), which a merge of parts could not keep.
  const notExhaustive = parts.find((p) => p.coverage.kind !== "exhaustive");
  if (notExhaustive) throw new ExplorerError(`mergeRecords() merges shards of an exhaustive search (dfs, dpor), not ${notExhaustive.coverage.kind} records; run a ${notExhaustive.coverage.kind} search whole.`);
  const counts = { true: 0, false: 0 };
  let executions = 0, runs = 0, steps = 0, ms = 0;
  for (const p of parts) {
    counts.true += p.counts.true;
    counts.false += p.counts.false;
    executions += p.stats.executions;
    runs += p.stats.runs;
    steps += p.stats.steps;
    ms = Math.max(ms, p.stats.ms);
  }
  const c = parts[0].coverage;
  const coverage: Coverage = c.kind === "exhaustive" ? { kind: c.kind, reduction: c.reduction, ...(c.footprints ? { footprints: c.footprints } : {}) } : c;
  return {
    complete: parts.every((p) => p.complete),
    coverage,
    stats: { executions, runs, steps, ms },
    counts,
    firstTrue: parts.find((p) => p.firstTrue)?.firstTrue,
    firstFalse: parts.find((p) => p.firstFalse)?.firstFalse,
    ...(parts.some((p) => p.cut) ? { cut: { ...parts.find((p) => p.cut)!.cut!, executions: parts.reduce((n, p) => n + (p.cut?.executions ?? 0), 0) } } : {}),
  };
}
