// Odometer over the decision tree, shared by the naive DFS and preemption bounding.
//
// Every decision (thread pick or choose() value) is a node; alternatives are tried
// left to right; after each execution the deepest node with untried alternatives is
// advanced and everything below it is discarded (stateless DFS: the prefix is re-run).

import type { Shard } from "./config.ts";
import type { Execution, Scheduler } from "./execution.ts";

interface Node {
  /** Alternatives at this decision; alts[0] is the default (non-preemptive) one. */
  readonly alts: number[];
  idx: number;
  /** Shard ownership, decided when this node is the shard-level branching node. */
  owned: boolean;
}

export class TreeScheduler implements Scheduler {
  private nodes: Node[] = [];
  private pos = 0;
  /** Nodes at index >= fresh were created or advanced since the last execution. */
  private fresh = 0;
  /** Product of the alternative counts of the nodes on the current path so far. */
  private width = 1;
  private frontier = 0;
  /**
   * Shard units: the subtree under each alternative of the first node at which the
   * path's width reaches `target` is one unit; units are dealt round-robin to shards.
   * Width depends only on the path, so every shard computes the same units in the same
   * DFS order: disjoint, and together the whole tree. A path that ends earlier is a unit itself.
   */
  private readonly target: number;

  constructor(
    /** Max preemptions along a path (Infinity = none). */
    readonly bound = Infinity,
    readonly shard?: Shard,
  ) {
    this.target = shard ? shard.count * 8 : Infinity;
  }

  pickThread(x: Execution, enabled: number): number {
    return this.take(() => {
      const last = x.lastThread;
      const lastEnabled = last >= 0 && (enabled & (1 << last)) !== 0;
      if (lastEnabled && x.preemptions >= this.bound) return [last];
      const alts: number[] = [];
      const def = x.defaultThread(enabled);
      alts.push(def);
      for (let m = enabled & ~(1 << def); m; m &= m - 1) alts.push(31 - Math.clz32(m & -m));
      return alts;
    });
  }

  pickChoice(_x: Execution, arity: number): number {
    return this.take(() => Array.from({ length: arity }, (_, i) => i));
  }

  private take(make: () => number[]): number {
    const i = this.pos++;
    if (i >= this.nodes.length) this.nodes.push({ alts: make(), idx: 0, owned: true });
    const n = this.nodes[i];
    if (this.shard && n.alts.length > 1 && this.width < this.target && (this.width *= n.alts.length) >= this.target) {
      if (i >= this.fresh) n.owned = this.frontier++ % this.shard.count === this.shard.index;
      if (!n.owned) return -1;
    }
    return n.alts[n.idx];
  }

  /** Called after each execution. True if this execution belongs to this shard. */
  finish(): boolean {
    let mine = true;
    // Leaves above the shard level are shard units of their own.
    if (this.shard && this.width < this.target) mine = this.frontier++ % this.shard.count === this.shard.index;
    return mine;
  }

  /** Move to the next path; false when the tree is exhausted. */
  next(): boolean {
    this.pos = 0;
    this.width = 1;
    while (this.nodes.length) {
      const n = this.nodes[this.nodes.length - 1];
      if (n.idx + 1 < n.alts.length) {
        n.idx++;
        this.fresh = this.nodes.length - 1;
        return true;
      }
      this.nodes.pop();
    }
    return false;
  }
}
