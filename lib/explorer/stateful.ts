// Stateful exhaustive search: depth-first search over STATES with sleep sets and a table of
// visited states.
//
// Algorithm (Godefroid, "Partial-Order Methods for the Verification of Concurrent Systems",
// LNCS 1032, 1996: sleep sets, and their combination with state caching). A state s reached with
// sleep set Z explores every enabled thread not in Z; the child reached by thread t gets the sleep
// set {u in Z ∪ (threads already explored at s) | u independent of t}. A state already in the
// table is not explored again. Every reachable state is visited, so every reachable terminal
// state (the only place a claim's predicate is evaluated) is seen. Safety only.
//
// Why a revisit may stop (no state is lost). The state graph is acyclic: a live thread's key is
// its whole history, which every transition of it extends, so a spin loop never repeats a state;
// it runs into search.maxSteps and is cut there exactly as in the stateless strategies (no
// Never/Always over it). So a state found in the table is never on the DFS stack: its
// exploration has finished. Claim: when the exploration of s finishes, every state reachable from
// s has been visited. By induction in the order explorations finish: an enabled t not in Z leads
// to s·t, explored now or finished earlier, so the claim holds for it. A t in Z is asleep because
// t was explored at an ancestor u whose exploration of u·t had finished, and the transitions from
// u to s are independent of t, so s·t is reachable from u·t and, with everything after it, already
// visited. Godefroid's algorithm also stores each state's sleep set and, on a revisit with sleep
// set Z, explores the threads asleep then but not now; that keeps every *transition*, which a
// cyclic state graph or a property over transitions needs and ours do not (findings are part of
// the state). Measured on the S2 port (4 pages, 3 validators, symmetry): the same 109 130 states,
// 10 % fewer transitions and about 20 % less CPU without it. The rule stays available as
// `mutations.revisit`, the reference of a property test (stateful-soundness.test.ts) that the
// two store exactly the same states and reach the same outcomes.
// No source-DPOR race analysis here: naive combinations of stateful search with DPOR are unsound
// (Yang, Chen, Gopalakrishnan, Kirby, "Efficient Stateful Dynamic Partial Order Reduction", SPIN 2008).
//
// A transition is "thread t runs its pending op, then its own code up to the next op", including
// the choose() values taken on the way: each vector of choose() values is its own transition
// (enumerated like an odometer), and a sleeping thread stands for all of them. Independence is
// dpor.ts's (footprints that share an object written by one) under search.resultsOnly, and
// otherwise any shared object (sharesObject below). A transition that spawns a thread,
// creates an object, or ends the execution (finding with { end: true }) is dependent with every
// other: its effect on thread and object numbering, or on whether the others run at all, does not
// commute.
//
// State key (state-key.ts), exact strings: every object's stateKey() (refused when missing), each
// live thread's name and history (interned) of values returned into it and, unless the model
// promised search.resultsOnly, of the keys of the objects each of its steps touched, taken just
// before the step (readsKey below: a run() can hand its thread what it read without returning
// it), "finished" for a done thread, the model's final() snapshot (what the predicate reads of
// finished threads' locals), and the findings as a multiset without step indices. The predicate
// of a merged state may not read what a merged state does not have: e.steps, and a finding's
// step, throw ExplorerError.
//
// Backtracking is by replay from the root (a fresh setup per transition), which is always correct
// even when thread code keeps state in closures; see README "stateful" for its cost.

import { stepsConflict, footprintOf, modeCode, touches, type Op, type Tracked } from "./effect.ts";
import { ExplorerError } from "./errors.ts";
import { Execution, type Scheduler } from "./execution.ts";
import type { Model } from "./model.ts";
import type { Explore, SearchContext } from "./search.ts";
import type { Finding } from "./finding.ts";
import { Machine, type MachineSnap } from "./stateful-machine.ts";
import { code2, findingsKey, Histories, keyOfValue, objectKey } from "./state-key.ts";
import { mapMask, Symmetry, unmapMask, type SymmetricKeyed } from "./symmetry.ts";

/** What a state key is made of: an Execution, or the snapshot machine (stateful-machine.ts). */
interface Live {
  readonly objects: readonly Tracked[];
  readonly threads: readonly { readonly name: string; readonly done: boolean; readonly pending: Op | null }[];
  readonly findings: readonly Finding[];
  readonly decisions: readonly number[];
}

export const STATEFUL_REDUCTION = "state caching + sleep sets";

/**
 * Deliberate mutations, for the soundness test's test of itself only (test/explorer/
 * stateful-soundness.test.ts): each switch breaks one rule the header calls essential. Two are
 * references instead: noSleepSets (plain state caching, for "no state is lost") and revisit
 * (Godefroid's revisit rule, for "stopping at a revisit loses no state", see the header).
 */
export const mutations = { revisit: false, noFindingsInKey: false, globalByFootprint: false, noSleepSets: false, symmetryNoPredicateCheck: false };

/** A state reached at the end of a transition: its key and what independence needs. */
interface Node {
  /** Decisions from the root (a path that reaches this state). */
  path: number[];
  readonly key: string;
  readonly enabled: number;
  obj: number[];
  mode: number[];
  foot: (number[] | null)[];
  /**
   * Snapshot backtracking: path, obj, mode, foot and snap are not filled yet (fill()): most
   * transitions reach a state already visited, which needs only the key.
   */
  lazy?: boolean;
  readonly threads: number;
  readonly objects: number;
  /** Symmetry reduction: p[t] = thread t's index in the canonical state the key describes (symmetry.ts). */
  readonly perm: readonly number[] | null;
  /** Snapshot backtracking only: the machine's state here. */
  snap?: MachineSnap;
}

const refuse = (what: string): never => {
  throw new ExplorerError(
    `The stateful strategy merges executions that reach the same state along different paths, so ${what} is not defined for the state a predicate sees. ` +
      `Write the predicate over findings (kind, thread, message, data), status and final(), or use { strategy: "dpor" }.`,
  );
};

/** What the predicate sees of a terminal state: no step count, findings without steps, in a canonical order. */
function mergedView(x: Execution, rename?: (f: Finding) => Pick<Finding, "kind" | "message" | "thread" | "data">): Execution {
  const fs = x.findings.map((f0) => {
    const f = rename ? rename(f0) : f0;
    return { kind: f.kind, message: f.message, thread: f.thread, data: f.data, get step(): number { return refuse("a finding's step"); } };
  });
  fs.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : (a.thread ?? "") < (b.thread ?? "") ? -1 : (a.thread ?? "") > (b.thread ?? "") ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  return {
    status: x.status, cutAt: x.cutAt, decisions: x.decisions, isDefault: x.isDefault, final: x.final, findings: fs,
    get steps(): number { return refuse("e.steps (the number of steps)"); },
  } as unknown as Execution;
}

/** Runs path, then one transition (thread `pick`, or the setup when -1, with choose() values from `script`), and stops at the next state. */
class TransitionScheduler implements Scheduler {
  private pos = 0;
  private picked = false;
  private choices = 0;
  readonly arities: number[] = [];
  readonly hist: number[] = [];
  node: Node | null = null;
  constructor(
    private readonly search: StatefulSearch,
    private readonly path: readonly number[],
    private readonly pick: number,
    private readonly script: readonly number[],
  ) {}
  pickThread(x: Execution, enabled: number): number {
    if (this.pos < this.path.length) return this.path[this.pos++];
    if (this.pick >= 0 && !this.picked) {
      this.picked = true;
      return this.pick;
    }
    this.node = this.search.capture(x, enabled, this.hist, this.search.final);
    return -1;
  }
  pickChoice(_x: Execution, arity: number): number {
    if (this.pos < this.path.length) return this.path[this.pos++];
    const j = this.choices++;
    this.arities.push(arity);
    return j < this.script.length ? this.script[j] : 0;
  }
}

/** Next choose() vector after `script` (odometer over the arities seen), or null when done. */
function nextScript(script: readonly number[], arities: readonly number[]): number[] | null {
  const s = arities.map((_, i) => (i < script.length ? script[i] : 0));
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i] + 1 < arities[i]) return [...s.slice(0, i), s[i] + 1];
  }
  return null;
}

class StatefulSearch {
  /** Visited states -> the sleep set (thread mask) they were explored with so far. */
  private readonly visited = new Map<string, number>();
  /** The sleep set of visited state i (the index the table maps its key to): a revisit updates it without a second hash lookup. */
  private sleep = new Int32Array(1024);
  private readonly terminals = new Set<string>();
  private readonly histories = new Histories();
  final: (() => unknown) | undefined;
  private readonly model: Model<unknown>;
  /** Snapshot backtracking: the live model instance (one per initial state). */
  private machine: Machine | null = null;
  stopped = false;
  /** The model's symmetry declaration (from its setup), and the reduction built from it at the first state. */
  private symDecl: readonly (readonly string[])[] | undefined;
  symmetry: Symmetry | null = null;
  private symShape: { threads: number; objects: number } | null = null;
  /** The permutation the last key() chose (symmetry only). */
  private lastPerm: number[] | null = null;

  constructor(private readonly ctx: SearchContext, private readonly snapshots: boolean, private readonly resultsOnly: boolean) {
    const m = ctx.model;
    // The final() of the running execution, for the state key (the predicate reads it). The
    // wrapper keeps the rest of the model (a SubscribedModel's reads: subscriptions.ts).
    this.model = { ...m, setup: () => { const inst = m.setup(); this.final = inst.final; this.symDecl = inst.symmetry; return inst; } };
  }

  get states(): number {
    return this.visited.size + this.terminals.size;
  }

  private key(x: Live, hist: readonly number[], finalValue: unknown): string {
    const name = this.ctx.model.name;
    if (this.symDecl !== undefined && this.symDecl.length > 0) return this.symmetricKey(x, hist, finalValue);
    let k = "";
    for (const o of x.objects) k += objectKey(o, name);
    k += `|${this.namesId(x.threads)}`;
    // Each thread: 0 when finished, else its interned history + 1, two code units each (code2).
    k += "|";
    for (let t = 0; t < x.threads.length; t++) k += code2(x.threads[t].done ? 0 : (hist[t] ?? 0) + 1);
    return `${k}|${keyOfValue(finalValue, () => `the final() snapshot of model "${name}"`)}|${mutations.noFindingsInKey ? "" : findingsKey(x.findings, name)}`;
  }

  /**
   * The key of the canonical representative of x's class under the symmetry groups (symmetry.ts):
   * the minimum, over the permutations that sort each group by local state, of the renamed object
   * keys and findings, then the other objects, then the locals in canonical order.
   */
  private symmetricKey(x: Live, hist: readonly number[], finalValue: unknown): string {
    const name = this.ctx.model.name;
    const n = x.threads.length;
    if (this.symmetry === null) {
      this.symmetry = new Symmetry(x.threads.map((th) => th.name), this.symDecl as readonly (readonly string[])[], name);
      this.symShape = { threads: n, objects: x.objects.length };
    }
    const sym = this.symmetry;
    if (finalValue !== undefined)
      throw new ExplorerError(`Symmetry reduction (model "${name}") cannot rename what final() returns (it reads threads' locals by name): write the predicate over findings and status, or drop the symmetry declaration.`);
    const shape = this.symShape as { threads: number; objects: number };
    if (n !== shape.threads || x.objects.length !== shape.objects)
      throw new ExplorerError(`Symmetry reduction (model "${name}") needs every thread and object to exist from the start, but a thread ${n !== shape.threads ? "spawned a thread" : "created an object"}: its identity would depend on which thread made it. Drop the symmetry declaration.`);
    const local: number[] = [], pending: (Op | null)[] = [];
    for (let t = 0; t < n; t++) {
      local.push(x.threads[t].done ? -1 : (hist[t] ?? 0));
      pending.push(x.threads[t].pending);
    }
    let fixed = "";
    const renamed: Tracked[] = [];
    for (const o of x.objects) {
      if ((o as unknown as Partial<SymmetricKeyed>).threadsInKey === "renamed") renamed.push(o);
      else fixed += sym.objectKey(o, null);
    }
    const withFindings = x.findings.length > 0 && !mutations.noFindingsInKey;
    const cands = sym.candidates(local, pending, n, renamed.length > 0 || withFindings);
    let best: string | null = null, bestP = cands[0];
    for (const p of cands) {
      let v = "";
      for (const o of renamed) v += sym.objectKey(o, p);
      if (withFindings) v += `|${findingsKey(x.findings.map((f) => ({ ...sym.renameFinding(f, p), step: f.step })), name)}`;
      if (best === null || v < best) {
        best = v;
        bestP = p;
      }
    }
    const inv: number[] = [];
    for (let t = 0; t < n; t++) inv[bestP[t]] = t;
    let k = `${best}|${fixed}|${this.namesId(x.threads)}`;
    k += "|";
    for (let c = 0; c < n; c++) k += code2(local[inv[c]] + 1);
    this.lastPerm = bestP;
    return k;
  }

  /** The thread names, in index order, interned: they change only when a thread is spawned. */
  private readonly names = new Map<string, number>();
  private lastNames: readonly string[] = [];
  private lastNamesId = -1;
  private namesId(threads: Live["threads"]): number {
    let same = threads.length === this.lastNames.length;
    for (let t = 0; same && t < threads.length; t++) same = threads[t].name === this.lastNames[t];
    if (!same) {
      this.lastNames = threads.map((th) => th.name);
      const k = JSON.stringify(this.lastNames);
      let id = this.names.get(k);
      if (id === undefined) this.names.set(k, (id = this.names.size));
      this.lastNamesId = id;
    }
    return this.lastNamesId;
  }

  /** Called at the state after a transition (inside the run: objects live, runtime set). */
  capture(x: Live, enabled: number, hist: readonly number[], final: (() => unknown) | undefined, lazy = false): Node {
    if (lazy) {
      this.lastPerm = null;
      const key = this.key(x, hist, final ? final() : undefined);
      return { path: NONE, key, enabled, obj: NONE, mode: NONE, foot: [], threads: x.threads.length, objects: x.objects.length, perm: this.lastPerm, lazy: true };
    }
    this.lastPerm = null;
    const key = this.key(x, hist, final ? final() : undefined);
    const node: Node = { path: NONE, key, enabled, obj: NONE, mode: NONE, foot: [], threads: x.threads.length, objects: x.objects.length, perm: this.lastPerm };
    this.pendingOps(node, x);
    return node;
  }

  /** The path and each thread's pending op (what independence needs), from x in node's state. */
  private pendingOps(node: Node, x: Live): void {
    const obj: number[] = [], mode: number[] = [], foot: (number[] | null)[] = [];
    for (let t = 0; t < x.threads.length; t++) {
      const op = x.threads[t].pending;
      obj.push(op?.obj ? op.obj.id : -1);
      mode.push(op?.obj ? modeCode(op.mode) : 0);
      foot.push(op && op.also !== undefined ? footprintOf(op) : null);
    }
    node.path = x.decisions.slice();
    node.obj = obj;
    node.mode = mode;
    node.foot = foot;
  }

  private run(path: readonly number[], pick: number, script: readonly number[]): { x: Execution; s: TransitionScheduler } {
    const s = new TransitionScheduler(this, path, pick, script);
    const x = new Execution(this.model, s, this.ctx.maxSteps);
    const name = this.ctx.model.name;
    // Bound to locals first: a function literal assigned straight to a property is allocated in the
    // old generation, and these close over the execution (lib/kernel/README.md).
    const observe = (t: number, v: unknown): void => {
      s.hist[t] = this.histories.extend(s.hist[t] ?? 0, keyOfValue(v, () => `a value returned into thread "${x.threadName(t)}" of model "${name}"`));
    };
    const observeStep = (t: number, op: Op): void => {
      s.hist[t] = this.histories.extend(s.hist[t] ?? 0, readsKey(op, name));
    };
    x.observe = observe;
    if (!this.resultsOnly) x.observeStep = observeStep;
    x.run();
    this.ctx.ran(x);
    return { x, s };
  }

  private terminal(x: Execution, hist: readonly number[]): void {
    if (x.status === "step-bound") {
      // Path-dependent (the step count): never merged.
      if (!this.ctx.visit(mergedView(x))) this.stopped = true;
      return;
    }
    const key = `${x.status}|${this.key(x, hist, x.final)}`;
    if (this.terminals.has(key)) return;
    this.terminals.add(key);
    if (this.symmetry && !mutations.symmetryNoPredicateCheck) this.checkInvariant(x);
    if (!this.ctx.visit(mergedView(x))) this.stopped = true;
  }

  /**
   * Symmetry: the terminal states of x's class are not evaluated, so the predicate must give the
   * same answer on every permutation of x; checked here, for every distinct terminal state.
   */
  private checkInvariant(x: Execution): void {
    const sym = this.symmetry as Symmetry;
    const holds = this.ctx.holds;
    // A caller without predicates (a test collecting outcomes) has nothing to check.
    if (!holds) return;
    const here = holds(mergedView(x)).join();
    for (const p of sym.permutations(x.threads.length)) {
      if (holds(mergedView(x, (f) => sym.renameFinding(f, p))).join() !== here)
        throw new ExplorerError(
          `Symmetry reduction (model "${this.ctx.model.name}"): a predicate gives a different answer when the threads of ${sym.label} are renamed ` +
            `(findings ${JSON.stringify(x.findings.map((f) => [f.kind, f.thread ?? null]))}), so merging permuted states would change the verdict. ` +
            `Write it without naming a thread of the group, or drop the symmetry declaration.`,
        );
    }
  }

  /**
   * Thread t's transition from `node` with choose() values `script`: the state it reaches, or
   * null and the terminal execution (always a real, replayed Execution).
   */
  private transition(node: Node, t: number, script: readonly number[]): { child: Node | null; arities: number[]; global: boolean; x?: Execution; hist?: number[] } {
    const m = this.machine;
    if (m && node.snap) {
      m.restore(node.snap, node.path);
      m.transition(t, script);
      this.ctx.ran(ONE_STEP);
      const global = m.threads.length > node.threads || m.stop;
      const enabled = m.enabledMask();
      if (!(m.stop || enabled === 0 || m.steps >= this.ctx.maxSteps)) {
        const child = this.capture(m, enabled, m.threads.map((th) => th.hist), m.final, true);
        return { child, arities: m.arities.slice(), global };
      }
    }
    const { x, s } = this.run(node.path, t, script);
    if (m && s.node) throw new ExplorerError(`internal: snapshot backtracking reached a terminal state that replay does not (model "${this.ctx.model.name}").`);
    const global = x.threads.length > node.threads || x.objects.length > node.objects || x.status === "stopped";
    return { child: s.node, arities: s.arities, global, x, hist: s.hist };
  }

  /** Explore the initial states (one per vector of choose() values taken while the threads start). */
  root(): boolean {
    let script: number[] | null = [];
    while (script) {
      if (this.ctx.outOfBudget()) return false;
      const { s, x } = this.run([], -1, script);
      if (s.node && this.snapshots) {
        const m = (this.machine = new Machine(this.ctx.model, this.histories));
        m.start(script);
        s.node.snap = m.snapshot();
      }
      if (s.node) {
        if (!this.dfs(s.node)) return false;
      } else this.terminal(x, s.hist);
      if (this.stopped) return false;
      script = nextScript(script, s.arities);
    }
    return true;
  }

  /**
   * Arrive at `node` with sleep set z: on a first visit, a frame that explores every enabled
   * thread not asleep; on a revisit null (with mutations.revisit, Godefroid's rule: a frame for
   * the threads asleep before but not now, if any).
   */
  private enter(node: Node, z: number): Frame | null {
    // Symmetry: the table holds sleep sets in canonical thread indices (node.perm).
    const p = node.perm;
    const i = this.visited.get(node.key);
    if (i === undefined) {
      if (node.lazy) this.fill(node);
      const n = this.visited.size;
      if (n === this.sleep.length) {
        const grown = new Int32Array(2 * n);
        grown.set(this.sleep);
        this.sleep = grown;
      }
      this.visited.set(node.key, n);
      this.sleep[n] = p ? mapMask(z, p) : z;
      return { node, z, todo: node.enabled & ~z, t: -1, script: null, done: 0, global: 0 };
    }
    const h = this.sleep[i];
    const again = mutations.revisit ? (p ? unmapMask(h, p) : h) & ~z & node.enabled : 0;
    this.sleep[i] = h & (p ? mapMask(z, p) : z);
    if (again !== 0 && node.lazy) this.fill(node);
    return again === 0 ? null : { node, z, todo: again, t: -1, script: null, done: 0, global: 0 };
  }

  /** A lazy node, while the machine is still in its state (right after the transition that reached it). */
  private fill(node: Node): void {
    const m = this.machine as Machine;
    this.pendingOps(node, m);
    node.snap = m.snapshot();
    node.lazy = false;
  }

  /** Depth-first from an initial state, with an explicit stack (executions may be maxSteps deep). False: stop. */
  private dfs(init: Node): boolean {
    const first = this.enter(init, 0);
    const stack: Frame[] = first ? [first] : [];
    while (stack.length) {
      const f = stack[stack.length - 1];
      if (f.script === null) {
        // Next thread of this frame, if any.
        if (f.t >= 0) f.done |= 1 << f.t;
        if (f.todo === 0) {
          stack.pop();
          continue;
        }
        f.t = 31 - Math.clz32(f.todo & -f.todo);
        f.todo &= f.todo - 1;
        f.script = [];
      }
      if (this.ctx.outOfBudget()) return false;
      const { node, z, t } = f;
      const r = this.transition(node, t, f.script);
      f.script = nextScript(f.script, r.arities);
      const isGlobal = !mutations.globalByFootprint && r.global;
      if (isGlobal) f.global |= 1 << t;
      if (r.child === null) this.terminal(r.x as Execution, r.hist as number[]);
      else {
        let childZ = 0;
        if (!isGlobal && !mutations.noSleepSets)
          for (let m = (z | f.done) & ~f.global & ~(1 << t); m; m &= m - 1) {
            const u = 31 - Math.clz32(m & -m);
            const dependent = this.resultsOnly
              ? stepsConflict(node.obj[u], node.mode[u], node.foot[u], node.obj[t], node.mode[t], node.foot[t])
              : sharesObject(node.obj[u], node.foot[u], node.obj[t], node.foot[t]);
            if (!dependent) childZ |= 1 << u;
          }
        const child = this.enter(r.child, childZ);
        if (child) stack.push(child);
      }
      if (this.stopped) return false;
    }
    return true;
  }
}

/** One state on the DFS stack: the threads left to explore there, and the one being explored. */
interface Frame {
  readonly node: Node;
  /** Sleep set this state was entered with. */
  readonly z: number;
  todo: number;
  /** Thread being explored (-1 before the first), and its next choose() vector (null: none left). */
  t: number;
  script: number[] | null;
  /** Threads fully explored here, and those whose transitions were global (see the header). */
  done: number;
  global: number;
}

const NONE = Object.freeze([]) as unknown as number[];

/** ctx.ran() of one snapshot transition: one step, no execution. */
const ONE_STEP = Object.freeze({ steps: 1 }) as Execution;

/**
 * What a step could read, as its thread's history records it before the step (unless the model
 * promised search.resultsOnly): the state of every object the op touches. A run() that writes a
 * variable of its thread (`run: () => { seen = x.peek(); }`) hands the thread something no result
 * shows; two orders that reach the same objects and the same results would then merge although
 * the thread learnt different things (stateful-soundness.test.ts, "a value handed over outside
 * the result"). Footprints bound what a step reads (dpor.ts relies on the same), so this keys it.
 */
function readsKey(op: Op, model: string): string {
  let k = "o";
  if (op.obj !== null) k += objectKey(op.obj, model);
  if (op.also !== undefined) for (const a of op.also) k += objectKey(a.obj, model);
  return k;
}

/**
 * Independence without the resultsOnly promise: transitions that touch one object are dependent
 * whatever their modes. Each records the state of what it touches (readsKey), and two reads or two
 * updates of one object that commute as steps (an rwsem's read locks, bits set with OR) still
 * change what the other records: the orders would reach different keys, and a sleep set, which
 * assumes they reach the same state, would lose one (stateful-soundness.test.ts checks that the
 * sleep sets store every state plain caching stores).
 */
function sharesObject(ao: number, af: readonly number[] | null, bo: number, bf: readonly number[] | null): boolean {
  if (af === null && bf === null) return ao >= 0 && ao === bo;
  if (af === null) return ao >= 0 && touches(bo, bf, ao);
  if (bf === null) return bo >= 0 && touches(ao, af, bo);
  for (let i = 0; i < af.length; i += 2) if (touches(bo, bf, af[i])) return true;
  return false;
}

export const exploreStateful: Explore = (ctx) => {
  if (ctx.config.shard) throw new ExplorerError(`search.shard is not supported by the stateful strategy; use { strategy: "dpor" } for shards.`);
  if (ctx.config.snapshots === true && ctx.config.resultsOnly !== true)
    throw new ExplorerError(
      `search.snapshots re-creates a thread's generator and feeds it only the values returned into it, so it needs the model's promise search.resultsOnly: true (no step's run() writes a variable of its thread). ` +
        `Check the model's steps and add resultsOnly: true, or leave snapshots out (replay from the root).`,
    );
  const s = new StatefulSearch(ctx, ctx.config.snapshots === true, ctx.config.resultsOnly === true);
  const complete = s.root();
  const coverage = { kind: "exhaustive", reduction: STATEFUL_REDUCTION, states: s.states } as const;
  return { complete, coverage: s.symmetry ? { ...coverage, symmetry: s.symmetry.label } : coverage };
};
