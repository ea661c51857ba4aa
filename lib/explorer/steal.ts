// Work stealing for source-DPOR (dpor.ts): the search tree split into subtrees ("units")
// while it is being explored, so idle workers take over unexplored parts of a busy one.
//
// The scheme is the one of Simsa, Bryant and Gibson, "Scalable Dynamic Partial Order
// Reduction" (RV 2012): a coordinator owns the top of the tree and every backtrack
// addition that lands there; a worker owns one subtree below it.
//  * A unit is "thread t at the node reached by a frozen prefix" (or, for the first one,
//    the whole tree). Its worker runs plain source-DPOR below that node (dpor.ts in
//    subtree mode) and sends every race that reaches the unit's root or above to the
//    coordinator, which applies the same source-set test as dpor.ts (an initial already
//    in backtrack or sleep: nothing to do; else add the lowest enabled initial, or every
//    enabled thread) and queues one new unit per thread added.
//  * Stealing: asked for work, a worker exports the top of its subtree down to the
//    shallowest node with threads still to explore there (split()): those nodes become
//    the coordinator's, their pending threads become units, and the worker keeps only
//    its current thread at that node. A node can be exported only once every choose()
//    odometer above it is on its last value (the worker's remaining work must be exactly
//    that one thread's subtree).
//  * Sleep sets. Siblings at one node are ordered by when they were handed out; a unit's
//    root sleep set holds the inherited sleepers and every sibling handed out before it,
//    as in the sequential search (where siblings are explored one after the other). A
//    sibling still running may not have shown yet whether its step at that node ends the
//    execution (dpor.ts `stops`: such a thread must not stay asleep below the node), so
//    a sibling whose answer is unknown is treated as stopping: it sleeps at the node but
//    is not passed down. Smaller sleep sets only ever add executions, and measured on S2 (4
//    pages, 2 validators, declared footprints) unknown siblings made two workers explore 47 %
//    more executions than one. So the splitting worker runs, for every thread the coordinator
//    will hand out at an exported node, the node's prefix and that thread's step once
//    (probeStep): the answer is the one the sibling's own unit will see, unless the thread takes
//    choose() values right after the step without stopping (its thread code may stop for another
//    value), when it stays unknown; and the coordinator (`defer`) makes a unit handed out later,
//    by a race, wait until the siblings handed out before it have reported theirs.
//  * Field footprints: a unit's root carries the records of its sleepers (the exporting
//    worker's, and the probed steps of the siblings) and which of them are inherited, so its
//    sleep sets and re-openings are those of the sequential search; a sleeper without a record
//    is compared by its pending op (dpor.ts), which only keeps fewer asleep.
// The executions explored depend on timing (which subtree was split when), so a parallel
// run may explore a few more executions than the sequential one, never fewer traces:
// test/explorer/steal-soundness.test.ts checks the outcomes against naive DFS under random
// steal schedules and message delays.

import { analyseRun, DporScheduler, type Choice } from "./dpor.ts";
import { canonAt, Execution, type Scheduler } from "./execution.ts";
import type { Model } from "./model.ts";
import type { Coverage, SearchContext, SearchOutcome } from "./search.ts";

export interface PrefixNode {
  readonly thread: number;
  readonly choices: readonly Choice[];
}

/** One subtree: thread `thread` at the node reached by init + prefix; thread -1 is the whole tree. */
export interface Unit {
  readonly id: number;
  readonly init: readonly Choice[];
  readonly prefix: readonly PrefixNode[];
  readonly thread: number;
  /** Sleep set at the root node, and which of its sleepers must not be passed down (dpor.ts `stops`). */
  readonly sleep: number;
  readonly stops: number;
  /** Field footprints: the root's sleepers inherited from its parent (the rest were explored there),
   *  and the records of the sleepers known (thread, record). Absent: all inherited, none known. */
  readonly inherited?: number;
  readonly foot?: Foot;
}

/** Records of steps (field footprints, dpor.ts DNode.sleepFoot), as (thread, record) pairs. */
type Foot = readonly (readonly [number, readonly number[]])[];

/** A node's state as exported by split(). */
export interface ExportedNode {
  readonly thread: number;
  readonly enabled: number;
  readonly sleep: number;
  readonly backtrack: number;
  readonly stops: number;
  /** Whether `thread`'s stop bit is final (every choose() value of its step there was run). */
  readonly known: boolean;
  /** The threads the coordinator will hand out here whose stop bit the probe settled, and which of those stop. */
  readonly probed: number;
  readonly probedStops: number;
  /** Field footprints: inherited sleepers, and the records known here (sleepers, probed, `thread`). */
  readonly inherited: number;
  readonly foot: Foot;
}

export type StealMessage =
  /** A backtrack addition at depth `depth` of the unit's path (exact: add `threads` without the source-set test). */
  | { readonly kind: "add"; readonly unit: number; readonly depth: number; readonly threads: number; readonly exact: boolean; readonly reopen?: boolean }
  /** The final answer to "does the unit's root thread's step end the execution there". */
  | { readonly kind: "root"; readonly unit: number; readonly stops: boolean }
  /** The unit gave away the top of its subtree: nodes at depths from (old root + 1) to the new root. */
  | { readonly kind: "split"; readonly unit: number; readonly init: readonly Choice[]; readonly path: readonly PrefixNode[]; readonly oldRootStops: boolean; readonly nodes: readonly ExportedNode[] };

const bit = (t: number): number => 1 << t;
const lowest = (m: number): number => 31 - Math.clz32(m & -m);
const exhausted = (list: readonly Choice[]): boolean => list.every((c) => c.v + 1 >= c.arity);
const copy = (list: readonly Choice[]): Choice[] => list.map((c) => ({ v: c.v, arity: c.arity }));

export const STEAL_COVERAGE: Coverage = Object.freeze({ kind: "exhaustive", reduction: "source-DPOR" });
const STEAL_FIELDS_COVERAGE: Coverage = Object.freeze({ kind: "exhaustive", reduction: "source-DPOR", footprints: "fields" });

/**
 * Worker side: source-DPOR over one unit, one execution at a time, splittable between executions.
 * `fields`: over field footprints (dpor.ts), with the unit's records of its root's sleepers
 * (Unit.foot); a sleeper without one is compared by its pending op, as at a shard's root
 * (dpor.ts), which only ever keeps fewer asleep.
 */
export class SubtreeSearch {
  private readonly sched: DporScheduler;
  private rootKnown: boolean;
  readonly coverage: Coverage;

  constructor(
    private readonly model: Model<unknown>,
    readonly unit: Unit,
    private readonly maxSteps: number,
    private readonly send: (m: StealMessage) => void,
    fields = false,
  ) {
    this.sched = new DporScheduler(undefined, false, fields);
    this.coverage = fields ? STEAL_FIELDS_COVERAGE : STEAL_COVERAGE;
    const s = this.sched;
    if (unit.thread >= 0) {
      s.init = copy(unit.init);
      s.nodes = unit.prefix.map((p) => ({ thread: p.thread, choices: copy(p.choices), enabled: 0, backtrack: 0, sleep: 0, inherited: 0, stops: 0 }));
      s.root = unit.prefix.length;
      s.rootThread = unit.thread;
      s.rootSleep = unit.sleep;
      s.rootStops = unit.stops;
      s.rootInherited = unit.inherited ?? unit.sleep;
      if (unit.foot?.length) s.rootSleepFoot = new Map(unit.foot);
    }
    this.rootKnown = unit.thread < 0;
    // Bound to a local first: a function literal assigned straight to a property is allocated in the
    // old generation (lib/kernel/README.md), and this one is made per subtree.
    const foreign: NonNullable<typeof s.foreign> = (depth, threads, exact, reopen) => {
      if (threads) this.send(reopen ? { kind: "add", unit: unit.id, depth, threads, exact, reopen } : { kind: "add", unit: unit.id, depth, threads, exact });
    };
    s.foreign = foreign;
  }

  /** Run one execution. "more": call again; "done": the subtree is exhausted; "stop": visit() asked to stop. */
  runOne(ctx: SearchContext): "more" | "done" | "stop" {
    const s = this.sched;
    const x = new Execution(this.model, s, this.maxSteps).run();
    ctx.ran(x);
    analyseRun(x, s);
    const root = s.nodes[s.root];
    // Whether the root step ends the execution can depend on the choose() values its thread takes
    // right after it (thread code may report an ending finding there): known once a run stopped
    // there (stops only accumulate), or at once if it takes none; else when the subtree is done.
    if (!this.rootKnown && root && (root.choices.length === 0 || root.stops & bit(s.rootThread))) this.reportRoot(root.stops);
    if (x.status !== "pruned" && !ctx.visit(x)) return "stop";
    const rootStops = root ? root.stops : 0;
    if (!s.next()) {
      if (!this.rootKnown) this.reportRoot(rootStops);
      return "done";
    }
    return "more";
  }

  private reportRoot(stops: number): void {
    this.rootKnown = true;
    this.send({ kind: "root", unit: this.unit.id, stops: (stops & bit(this.sched.rootThread)) !== 0 });
  }

  /** The loop of one unit: `poll` runs between executions (it may call split()) and returns false to stop. */
  explore(ctx: SearchContext, poll?: (x: SubtreeSearch) => boolean): SearchOutcome {
    for (;;) {
      if (ctx.outOfBudget()) return { complete: false, coverage: this.coverage };
      const r = this.runOne(ctx);
      if (r !== "more") return { complete: r === "done", coverage: this.coverage };
      if (poll && !poll(this)) return { complete: false, coverage: this.coverage };
    }
  }

  /**
   * Give the top of this subtree to the coordinator (the returned message), keeping the current
   * thread's subtree at the shallowest node that has other threads to explore; null if no node can go.
   * Call between executions only.
   */
  split(): StealMessage | null {
    const s = this.sched, R = s.root, nodes = s.nodes;
    if (R < 0 && !exhausted(s.init)) return null;
    // Nodes at or after the one next() just changed have not run with their current values yet,
    // so their choose() lists may be incomplete.
    const complete = s.divergence - 1;
    for (let k = R + 1; k < nodes.length && k <= complete; k++) {
      if (k - 1 >= 0 && !exhausted(nodes[k - 1].choices)) return null;
      const n = nodes[k];
      if (!(n.backtrack & ~n.sleep & n.enabled & ~bit(n.thread))) continue;
      const exported: ExportedNode[] = [];
      for (let d = R + 1; d <= k; d++) {
        const m = nodes[d];
        // Above k the current thread's odometer is on its last value and its step did not end
        // the execution (the path goes on), so its stop bit is final; so is a stop seen already.
        const known = d < k || (k < complete && exhausted(m.choices)) || (m.stops & bit(m.thread)) !== 0;
        // The threads the coordinator hands out here (StealCoordinator.receive): probe each step.
        const handOut = m.backtrack & ~m.sleep & m.enabled & ~bit(m.thread);
        let probed = 0, probedStops = 0;
        const foot = new Map<number, readonly number[]>(m.sleepFoot ?? []);
        const last = s.last;
        if (s.fields && last !== null && d < last.steps && last.stepThread[d] === m.thread) foot.set(m.thread, last.canonOf(d));
        for (let c = handOut; c; c &= c - 1) {
          const t = lowest(c);
          const r = this.probeStep(d, t);
          if (r.known) probed |= bit(t);
          if (r.stops) probedStops |= bit(t);
          if (r.foot) foot.set(t, r.foot);
        }
        exported.push({ thread: m.thread, enabled: m.enabled, sleep: m.sleep, backtrack: m.backtrack, stops: m.stops, known, probed, probedStops, inherited: m.inherited, foot: [...foot] });
      }
      const msg: StealMessage = {
        kind: "split", unit: this.unit.id, init: copy(s.init), path: nodes.slice(0, k).map((m) => ({ thread: m.thread, choices: copy(m.choices) })),
        oldRootStops: R >= 0 && (nodes[R].stops & bit(nodes[R].thread)) !== 0, nodes: exported,
      };
      s.root = k;
      s.rootThread = n.thread;
      this.rootKnown = exported[exported.length - 1].known;
      return msg;
    }
    return null;
  }

  /**
   * Run the current path's prefix up to depth d, then thread t's step: does it end the execution,
   * and (field footprints) what did it touch? The answer is final (`known`) if the run stopped
   * there, or if t took no choose() value after its step (thread code may end the execution for
   * some values and not others); null record if the run went elsewhere.
   */
  private probeStep(d: number, t: number): { known: boolean; stops: boolean; foot: readonly number[] | null } {
    const s = this.sched;
    const probe = new PrefixStep(s.init, s.nodes, d, t, s.fields);
    const x = new Execution(this.model, probe, this.maxSteps).run();
    const ran = x.steps === d + 1 && x.stepThread[d] === t;
    const stops = ran && x.status === "stopped";
    return { known: ran && (stops || !probe.choseAfter), stops, foot: ran && s.fields ? canonAt(x, d) : null };
  }
}

/** Replays a path's threads and choose() values to depth d, runs thread t there, and stops. */
class PrefixStep implements Scheduler {
  private cpos = 0;
  /** Thread t took a choose() value after its step. */
  choseAfter = false;
  constructor(
    private readonly init: readonly Choice[],
    private readonly nodes: readonly { readonly thread: number; readonly choices: readonly Choice[] }[],
    private readonly d: number,
    private readonly t: number,
    readonly fields: boolean,
  ) {}
  pickThread(x: Execution, enabled: number): number {
    this.cpos = 0;
    const s = x.steps;
    const want = s < this.d ? this.nodes[s].thread : s === this.d ? this.t : -1;
    return want >= 0 && enabled & bit(want) ? want : -1;
  }
  pickChoice(x: Execution): number {
    if (x.steps === this.d + 1) this.choseAfter = true;
    const list = x.steps === 0 ? this.init : x.steps - 1 < this.d ? this.nodes[x.steps - 1].choices : null;
    const i = this.cpos++;
    return list !== null && i < list.length ? list[i].v : 0;
  }
}

/** A node of the top of the tree, owned by the coordinator. */
interface Top {
  readonly init: readonly Choice[];
  /** Nodes above this one. */
  readonly path: readonly PrefixNode[];
  /** This node and its ancestors, root first. */
  readonly chain: Top[];
  readonly enabled: number;
  /** Inherited sleepers and threads fully explored here before the split (field footprints:
   *  a worker may re-open an inherited one, dpor.ts checkWakes). */
  sleep: number;
  backtrack: number;
  stops: number;
  /** Threads handed out here (to units), in flight or done. */
  handed: number;
  /** Handed-out threads whose stop bit is not known yet. */
  unknown: number;
  /** Threads whose stop bit here was probed before they were handed out (ExportedNode.probed). */
  readonly probed: number;
  /** Field footprints: inherited sleepers, and the records known here, by thread. */
  readonly inherited: number;
  readonly foot: ReadonlyMap<number, readonly number[]>;
  /** Threads handed out here whose units wait for an earlier sibling's stop bit (StealCoordinator.defer):
   *  their root sleep set, and the siblings handed out before them (the only ones they wait for). */
  readonly waiting: { readonly t: number; readonly sleep: number; readonly before: number }[];
}

/** Coordinator side: owns the top of the tree, turns backtrack additions and splits into units. */
export class StealCoordinator {
  private readonly queue: Unit[] = [];
  private readonly units = new Map<number, { tops: Top[]; thread: number }>();
  private nextId = 1;
  /** Units handed out so far (the first is the whole tree). */
  created = 1;

  /** Units waiting for a sibling's stop bit, over all nodes. */
  private waitingCount = 0;

  /**
   * `defer`: a unit whose root would have a sleeper with an unknown stop bit (a sibling handed
   * out earlier that has not run yet) waits until that sibling's first execution reports, instead
   * of starting with the sleeper left out of every sleep set below its root; measured on S2 (4
   * pages, 2 validators, declared footprints), leaving them out made two workers explore 47 %
   * more executions than one. Off for the static shards (steal-shard.ts), whose siblings may
   * run in another shard and never report here.
   */
  constructor(private readonly defer = false) {
    this.queue.push({ id: 0, init: [], prefix: [], thread: -1, sleep: 0, stops: 0 });
    this.units.set(0, { tops: [], thread: -1 });
  }

  /** The next unit to explore (shallowest first: the largest subtrees), or undefined. */
  take(): Unit | undefined {
    return this.queue.shift();
  }

  /** Units not yet handed to a worker (queued, or waiting for a sibling's stop bit). */
  get queued(): number {
    return this.queue.length + this.waitingCount;
  }

  /** Units take() can hand out now. */
  get ready(): number {
    return this.queue.length;
  }

  receive(m: StealMessage): void {
    const u = this.units.get(m.unit);
    if (!u) throw new Error(`internal: message for unknown unit ${m.unit}`);
    if (m.kind === "add") {
      const T = u.tops[m.depth];
      if (!T) throw new Error(`internal: unit ${m.unit} reported a race at depth ${m.depth}, above which it owns nothing`);
      if (m.reopen) this.reopen(T, m.threads);
      else this.add(T, m.threads, m.exact);
    } else if (m.kind === "root") {
      this.settle(u.tops[u.tops.length - 1], u.thread, m.stops);
    } else {
      if (u.tops.length) this.settle(u.tops[u.tops.length - 1], u.thread, m.oldRootStops);
      const base = u.tops.length;
      const fresh: Top[] = [];
      m.nodes.forEach((n, i) => {
        const depth = base + i;
        const chain: Top[] = [];
        const T: Top = {
          init: m.init, path: m.path.slice(0, depth), chain, enabled: n.enabled, sleep: n.sleep, backtrack: n.backtrack | bit(n.thread), stops: n.stops | n.probedStops,
          handed: bit(n.thread), unknown: n.known ? 0 : bit(n.thread), probed: n.probed, inherited: n.inherited, foot: new Map(n.foot), waiting: [],
        };
        chain.push(...u.tops, ...fresh, T);
        fresh.push(T);
      });
      u.tops = [...u.tops, ...fresh];
      u.thread = m.nodes[m.nodes.length - 1].thread;
      for (const T of fresh) for (let c = T.backtrack & ~T.sleep & ~T.handed & T.enabled; c; c &= c - 1) this.spawn(T, lowest(c));
    }
  }

  private settle(T: Top, t: number, stops: boolean): void {
    T.unknown &= ~bit(t);
    if (stops) T.stops |= bit(t);
    // Release, in the order they were handed out, the units no unknown sleeper holds back.
    for (let i = 0; i < T.waiting.length; ) {
      const w = T.waiting[i];
      if (T.unknown & w.sleep & w.before) {
        i++;
        continue;
      }
      T.waiting.splice(i, 1);
      this.waitingCount--;
      this.enqueue(T, w.t, w.sleep);
    }
  }

  /** dpor.ts addBacktrack / stopRaces, on a node the coordinator owns. */
  private add(T: Top, threads: number, exact: boolean): void {
    let add = threads;
    if (!exact) {
      if (threads & (T.backtrack | T.sleep)) return;
      const ok = threads & T.enabled;
      add = ok ? bit(lowest(ok)) : T.enabled;
    }
    const fresh = add & T.enabled & ~T.backtrack & ~T.sleep & ~T.handed;
    T.backtrack |= add;
    for (let c = fresh; c; c &= c - 1) this.spawn(T, lowest(c));
  }

  /** dpor.ts checkWakes on a node the coordinator owns: wake the sleepers and explore them here
   *  (a thread already in backtrack but asleep was never explored here, so it goes too). */
  private reopen(T: Top, threads: number): void {
    T.sleep &= ~threads;
    T.backtrack |= threads;
    for (let c = threads & T.enabled & ~T.handed; c; c &= c - 1) this.spawn(T, lowest(c));
  }

  private spawn(T: Top, t: number): void {
    // Every sibling handed out before t sleeps at the root.
    const before = T.handed, sleep = T.sleep | before;
    T.handed |= bit(t);
    if (!(T.probed & bit(t))) T.unknown |= bit(t);
    // Only siblings handed out before t are waited for: an inherited sleeper re-opened later
    // (reopen) is handed out after t and may itself wait for t; it stays out of what t passes down.
    if (this.defer && T.unknown & sleep & before) {
      T.waiting.push({ t, sleep, before });
      this.waitingCount++;
      return;
    }
    this.enqueue(T, t, sleep);
  }

  private enqueue(T: Top, t: number, sleep: number): void {
    const id = this.nextId++;
    this.created++;
    const foot: Foot = [...T.foot].filter(([u]) => sleep & bit(u));
    // Sleepers whose stop bit is unknown sleep at the root but are not passed down.
    this.queue.push({ id, init: T.init, prefix: T.path, thread: t, sleep, stops: T.stops | (T.unknown & sleep), inherited: T.inherited & T.sleep, foot });
    this.units.set(id, { tops: T.chain, thread: t });
  }

}
