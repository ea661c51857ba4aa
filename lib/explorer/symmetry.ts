// Symmetry reduction for the stateful strategy (stateful.ts): threads declared interchangeable
// (identical code; only their index and name differ) make states that differ by a permutation of
// those threads equivalent, and the visited table stores one canonical representative per class
// (Ip & Dill, "Better Verification Through Symmetry", FMSD 9, 1996; Emerson & Sistla, "Symmetry
// and Model Checking", FMSD 9, 1996).
//
// Canonical form. A thread's local state is its history (the interned sequence of values returned
// into it, state-key.ts) or "finished". Within each group, threads are sorted by that local state
// and the k-th smallest takes the group's k-th index. Threads with equal local states (ties) can
// be ordered either way; the candidates are every order of the ties, and the one whose renamed
// object keys and findings give the smallest string wins. That is the minimum key over all
// permutations that sort the locals, so two states related by a permutation get the same key, and
// two states with the same key are related by a permutation (the key, with its renaming, is exact).
//
// What has to be renamed, and what is refused:
// - objects whose key names a thread (a lock's owner) rename it through stateKey(rename); every
//   object must say which it is (threadsInKey: "renamed" | "none"), else the search refuses it;
// - findings: thread names (in thread, message and data) are renamed token by token;
// - a model's final() is refused (it reads threads' locals by name, which cannot be renamed);
// - spawn() is refused (a spawned thread's identity depends on its parent);
// - two threads of a group with equal histories must be about to run the same step on the same
//   object: otherwise their code is not identical, and the search says so;
// - the predicate must be invariant under the group: every distinct terminal state is checked
//   under every permutation of the groups (up to MAX_CHECKED of them), and a difference is refused.
// Sleep sets are stored in canonical thread indices (mapped by the same permutation) and mapped
// back on a revisit; they matter only to Godefroid's revisit rule, which is off by default
// (stateful.ts's header says why no state needs it).
//
// Meaning of the verdict: every reachable state is covered up to a permutation of the groups, so
// a predicate that is invariant under those permutations gets the verdict it would get without
// symmetry (checked above for the terminal states the search evaluates).

import type { Op, Tracked } from "./effect.ts";
import { ExplorerError } from "./errors.ts";
import type { Finding } from "./finding.ts";

/** How an object's stateKey() names threads, for symmetry reduction. */
export interface SymmetricKeyed {
  /** "renamed": stateKey(rename) maps every thread index t it names to rename[t]; "none": it names no thread. */
  readonly threadsInKey: "renamed" | "none";
  stateKey(rename?: readonly number[]): string | number;
}

/** Beyond this many permutations, the predicate check uses the groups' generators only. */
const MAX_CHECKED = 720;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class Symmetry {
  /** Thread indices of each group, ascending. */
  readonly groups: readonly (readonly number[])[];
  /** For the record's coverage, e.g. "T_validate0, T_validate1, T_validate2 (3! permutations)". */
  readonly label: string;
  private readonly re: RegExp;
  private readonly index = new Map<string, number>();

  constructor(
    private readonly names: readonly string[],
    decl: readonly (readonly string[])[],
    private readonly model: string,
  ) {
    const seen = new Set<string>();
    this.groups = decl.map((g) => {
      if (g.length < 2) throw new ExplorerError(`Symmetry group [${g.join(", ")}] of model "${model}" needs at least two threads.`);
      return g.map((n) => {
        const t = names.indexOf(n);
        if (t < 0) throw new ExplorerError(`Symmetry group of model "${model}" names thread "${n}", which the model does not have (threads: ${names.join(", ")}).`);
        if (seen.has(n)) throw new ExplorerError(`Thread "${n}" of model "${model}" is in two symmetry groups (or twice in one); groups must be disjoint.`);
        seen.add(n);
        this.index.set(n, t);
        return t;
      }).sort((a, b) => a - b);
    });
    if (names.length > 31) throw new ExplorerError(`Symmetry reduction supports at most 31 threads (model "${model}" has ${names.length}).`);
    this.label = this.groups.map((g) => `${g.map((t) => names[t]).join(", ")} (${g.length}! permutations)`).join("; ");
    const alts = [...seen].sort((a, b) => b.length - a.length).map(escape).join("|");
    this.re = new RegExp(`(?<![A-Za-z0-9_])(?:${alts})(?![A-Za-z0-9_])`, "g");
  }

  /**
   * The permutations (p[t] = canonical index of thread t) that sort each group by `local`, ties in
   * every order; checks that tied threads are about to run the same step.
   */
  candidates(local: readonly number[], pending: readonly (Op | null)[], n: number, all: boolean): number[][] {
    // Fast path, most states: no two threads of a group tie (or ties need no enumeration): one permutation.
    const one: number[] = [];
    for (let t = 0; t < n; t++) one.push(t);
    let ties = false;
    for (const g of this.groups) {
      const sorted = this.sorted(g, local);
      for (let k = 0; k < sorted.length; k++) {
        one[sorted[k]] = g[k];
        if (k > 0 && local[sorted[k]] === local[sorted[k - 1]]) {
          this.sameStep(sorted[k - 1], sorted[k], pending);
          ties = true;
        }
      }
    }
    if (!ties || !all) return [one];
    return this.allCandidates(local, n);
  }

  /** Group g's threads by local state (then index): insertion sort, groups are small. */
  private sorted(g: readonly number[], local: readonly number[]): number[] {
    const out = g.slice();
    for (let i = 1; i < out.length; i++) {
      const t = out[i];
      let j = i - 1;
      for (; j >= 0 && local[out[j]] > local[t]; j--) out[j + 1] = out[j];
      out[j + 1] = t;
    }
    return out;
  }

  private allCandidates(local: readonly number[], n: number): number[][] {
    const base: number[] = [];
    for (let t = 0; t < n; t++) base.push(t);
    let out: number[][] = [base];
    for (const g of this.groups) {
      const sorted = this.sorted(g, local);
      // Tie classes: runs of equal locals in sorted order.
      const runs: number[][] = [];
      for (const t of sorted) {
        const last = runs[runs.length - 1];
        if (last && local[last[0]] === local[t]) last.push(t);
        else runs.push([t]);
      }
      const orders = orderings(runs);
      const next: number[][] = [];
      for (const p of out)
        for (const o of orders) {
          const q = p.slice();
          for (let k = 0; k < g.length; k++) q[o[k]] = g[k];
          next.push(q);
        }
      out = next;
    }
    return out;
  }

  private sameStep(a: number, b: number, pending: readonly (Op | null)[]): void {
    const x = pending[a], y = pending[b];
    if (x === y) return;
    if (x && y && x.obj === y.obj && x.kind === y.kind && x.mode === y.mode) return;
    const show = (o: Op | null) => (o ? `${o.kind} on ${o.obj ? `${o.obj.type} "${o.obj.name}"` : "no object"}` : "its end");
    throw new ExplorerError(
      `Symmetry group of model "${this.model}": threads "${this.names[a]}" and "${this.names[b]}" have observed the same values but are about to run different steps ` +
        `(${show(x)} vs ${show(y)}), so their code is not identical up to renaming. Remove them from the symmetry group.`,
    );
  }

  /** Rename every thread name of a group in `s` (whole tokens), by p. */
  renameText(s: string, p: readonly number[]): string {
    return s.replace(this.re, (m) => this.names[p[this.index.get(m) as number]]);
  }

  /** Deep renaming of strings in plain data (a finding's data). */
  renameValue(v: unknown, p: readonly number[]): unknown {
    if (typeof v === "string") return this.renameText(v, p);
    if (Array.isArray(v)) return v.map((x) => this.renameValue(x, p));
    if (v !== null && typeof v === "object") {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return v;
      const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>; // keys are the finding's, any string
      for (const k of Object.keys(v)) o[k] = this.renameValue((v as Record<string, unknown>)[k], p);
      return o;
    }
    return v;
  }

  renameFinding<F extends Pick<Finding, "kind" | "message" | "thread" | "data">>(f: F, p: readonly number[]): F {
    return { ...f, thread: f.thread === undefined ? undefined : this.renameText(f.thread, p), message: this.renameText(f.message, p), data: this.renameValue(f.data, p) };
  }

  /** Every permutation of the groups (or, beyond MAX_CHECKED, each group's transposition and cycle), for the predicate check. */
  permutations(n: number): number[][] {
    let total = 1;
    for (const g of this.groups) for (let k = 2; k <= g.length; k++) total *= k;
    const id = Array.from({ length: n }, (_, t) => t);
    if (total <= MAX_CHECKED) {
      let out: number[][] = [id];
      for (const g of this.groups) {
        const next: number[][] = [];
        for (const p of out)
          for (const o of orderings([g.slice()])) {
            const q = p.slice();
            for (let k = 0; k < g.length; k++) q[o[k]] = g[k];
            next.push(q);
          }
        out = next;
      }
      return out.slice(1);
    }
    const out: number[][] = [];
    for (const g of this.groups) {
      const swap = id.slice();
      [swap[g[0]], swap[g[1]]] = [g[1], g[0]];
      const cyc = id.slice();
      for (let k = 0; k < g.length; k++) cyc[g[k]] = g[(k + 1) % g.length];
      out.push(swap, cyc);
    }
    return out;
  }

  /** An object's key under p; refuses an object that does not say how its key names threads. */
  objectKey(o: Tracked, p: readonly number[] | null): string {
    const s = o as unknown as Partial<SymmetricKeyed>;
    if (s.threadsInKey !== "renamed" && s.threadsInKey !== "none")
      throw new ExplorerError(
        `Symmetry reduction needs every object of model "${this.model}" to say whether its stateKey() names threads, but ${o.type} "${o.name}" (class ${o.constructor.name}) does not. ` +
          `Give its class threadsInKey = "none" (its key names no thread) or "renamed" (stateKey(rename) maps each thread index t to rename[t]), or drop the symmetry declaration.`,
      );
    const k = String((s as SymmetricKeyed).stateKey(s.threadsInKey === "renamed" && p ? p : undefined));
    return `${k.length}:${k}`;
  }
}

/** Every concatenation of the runs, each run in every order (the runs stay in place). */
function orderings(runs: readonly number[][]): number[][] {
  let out: number[][] = [[]];
  for (const r of runs) {
    const perms = permute(r);
    const next: number[][] = [];
    for (const a of out) for (const b of perms) next.push([...a, ...b]);
    out = next;
  }
  return out;
}

function permute(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [xs.slice()];
  const out: number[][] = [];
  for (let i = 0; i < xs.length; i++) for (const rest of permute([...xs.slice(0, i), ...xs.slice(i + 1)])) out.push([xs[i], ...rest]);
  return out;
}

/** Thread mask m in canonical indices (p[t] for each t in m). */
export function mapMask(m: number, p: readonly number[]): number {
  let r = 0;
  for (; m; m &= m - 1) r |= 1 << p[31 - Math.clz32(m & -m)];
  return r;
}

/** Canonical mask c back in the state's own indices. */
export function unmapMask(c: number, p: readonly number[]): number {
  let r = 0;
  for (let t = 0; t < p.length; t++) if (c & (1 << p[t])) r |= 1 << t;
  return r;
}
