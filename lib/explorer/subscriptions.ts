// Subscriptions: which finding kinds the claims of a search read (ClaimSpec.reads).
//
// An oracle keeps ghost state (an in-flight invalidation count per page, the installs made during
// one, a flag on a frame) that only its own findings read. Under DPOR every step that touches it
// depends on every other that does, for every claim, including claims whose predicate never reads
// that oracle's findings: a claim that declares what it reads lets the model leave the others out
// (`subscribed(kind)`, asked by the model's setup), and the search explores fewer interleavings.
//
// It must not lie:
//  - a claim that declares nothing reads every kind (today's behaviour, unchanged);
//  - the view handed to a predicate refuses, with an error naming the claim and the kind, to
//    answer about a kind the claim did not declare (restrictView), rather than say "absent";
//  - only the model decides what to leave out, and only ghost state: an oracle that is off must
//    not change what any thread does (the schedule), which test/kernel/subscriptions.test.ts checks
//    by replaying every execution of a subscribed search with every oracle on;
//  - the explorer drops no finding: whatever is reported is kept, so a finding that ends an
//    execution ({ end: true }) ends it whether or not a claim reads its kind;
//  - a witness is replayed (and minimised) on the model itself, with every oracle on: it shows
//    every finding, not only the subscribed ones.

import { currentRuntime } from "./context.ts";
import { ExplorerError } from "./errors.ts";
import type { Finding } from "./finding.ts";
import type { Model } from "./model.ts";
import type { Execution } from "./execution.ts";
import { viewOf, type ExecutionView } from "./view.ts";

/** A model whose executions report only the subscribed kinds' ghost state (searchAll makes them). */
export interface SubscribedModel<F = unknown> extends Model<F> {
  /** The finding kinds some claim of the search reads. */
  readonly reads: ReadonlySet<string>;
}

/**
 * Does some claim of the running search read findings of `kind`? True outside a search, in a
 * replay, and whenever a claim declared no `reads`. Ask it in the model's setup (a kernel asks at
 * boot) and keep the answer: it does not change during an execution.
 */
export function subscribed(kind: string): boolean {
  const r = currentRuntime()?.reads?.() ?? null;
  return r === null || r.has(kind);
}

/** The kinds a spec's predicate reads, or null for every kind. Throws on a malformed list. */
export function readsOf(spec: { readonly reads?: readonly string[]; readonly id?: string; readonly title: string }): ReadonlySet<string> | null {
  if (spec.reads === undefined) return null;
  if (!Array.isArray(spec.reads) || spec.reads.some((k) => typeof k !== "string" || k === ""))
    throw new ExplorerError(`${who(spec)}: reads must be a list of finding kinds, e.g. reads: ["uaf", "stale-install"] (or leave it out: the predicate may read every kind).`);
  return new Set(spec.reads);
}

/** A spec's reads as its record and search key carry them: sorted, each kind once; undefined when it declared none. */
export function sortedReads(spec: { readonly reads?: readonly string[] }): string[] | undefined {
  return spec.reads === undefined ? undefined : [...new Set(spec.reads)].sort();
}

/** The model a search of these specs runs: the model itself unless every spec declares its reads. */
export function subscribedModel<F>(model: Model<F>, specs: readonly { readonly reads?: readonly string[]; readonly id?: string; readonly title: string }[]): Model<F> {
  const all = new Set<string>();
  for (const s of specs) {
    const r = readsOf(s);
    if (r === null) return model;
    for (const k of r) all.add(k);
  }
  const m: SubscribedModel<F> = { name: model.name, setup: model.setup, reads: all };
  return m;
}

/** The kinds a model's executions are subscribed to (null: all). Execution.reads() answers with it. */
export function readsOfModel(model: Model<unknown>): ReadonlySet<string> | null {
  return (model as Partial<SubscribedModel>).reads ?? null;
}

/** The view a spec's predicate gets of x: restricted to its declared reads. */
export function viewFor<F>(spec: { readonly reads?: readonly string[]; readonly id?: string; readonly title: string }, x: Execution, reads: ReadonlySet<string> | null = readsOf(spec)): ExecutionView<F> {
  const v = viewOf<F>(x);
  return reads === null ? v : restrictView(v, reads, spec);
}

const who = (spec: { readonly id?: string; readonly title: string }): string => `claim ${spec.id ? `${spec.id} ` : ""}"${spec.title}"`;

/**
 * The view a predicate that declared `reads` sees: has(kind) and findingsOf(kind) refuse a kind
 * outside `reads`, and `findings` (every kind) refuses outright. The same view whether the
 * execution ran subscribed or with every oracle on (minimisation, replay).
 */
export function restrictView<F>(v: ExecutionView<F>, reads: ReadonlySet<string>, spec: { readonly id?: string; readonly title: string }): ExecutionView<F> {
  const findings = v.findings;
  const refuse = (what: string): never => {
    throw new ExplorerError(`${who(spec)} declares reads: [${[...reads].map((k) => JSON.stringify(k)).join(", ")}], but its predicate asked ${what}. Oracles that no claim of the search reads keep no state, so the answer would be a lie: add the kind to reads (or drop reads to read every kind).`);
  };
  const only = (kind: string): readonly Finding[] => (reads.has(kind) ? findings.filter((f) => f.kind === kind) : refuse(`about "${kind}" findings`));
  return {
    final: v.final,
    get findings(): readonly Finding[] {
      return refuse("for e.findings (every kind); use e.has(kind) or e.findingsOf(kind)");
    },
    has: (kind) => only(kind).length > 0,
    findingsOf: only,
    get steps() {
      return v.steps;
    },
    status: v.status,
  };
}
