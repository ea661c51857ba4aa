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
  private branchings = 0;
  private frontier = 0;
  /** Shard level: the subtree under each alternative of the L-th branching node is one shard unit. */
  private readonly level: number;

  constructor(
    /** Max preemptions along a path (Infinity = none). */
    readonly bound = Infinity,
    readonly shard?: Shard,
  ) {
    this.level = shard ? Math.ceil(Math.log2(shard.count)) + 3 : 0;
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
    if (this.shard && n.alts.length > 1 && ++this.branchings === this.level) {
      if (i >= this.fresh) n.owned = this.frontier++ % this.shard.count === this.shard.index;
      if (!n.owned) return -1;
    }
    return n.alts[n.idx];
  }

  /** Called after each execution. True if this execution belongs to this shard. */
  finish(): boolean {
    let mine = true;
    // Leaves above the shard level are shard units of their own.
    if (this.shard && this.branchings < this.level) mine = this.frontier++ % this.shard.count === this.shard.index;
    return mine;
  }

  /** Move to the next path; false when the tree is exhausted. */
  next(): boolean {
    this.pos = 0;
    this.branchings = 0;
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
