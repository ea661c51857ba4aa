// lockdep of an era: lock classes, a dependency graph (one per execution: boot() makes it), the
// pseudo-locks (maps) of kernel-semantics.md §27, priming, and reports in the splat layout.
// Model of kernel/locking/lockdep.c (check_prevs_add, check_noncircular, print_circular_bug,
// print_circular_lock_scenario) and include/linux/lockdep.h (lock_map_acquire, might_lock).
//
// This is the STATIC analysis ("lockdep of era E would report"), separate from the explorer's
// real wait-for deadlock detection: a lockdep report needs only that both orders were ever
// observed earlier in the same boot (edges persist across time and tasks, not across executions).
// boot() accepts no graph from outside and nothing else may make one (test/build/fresh-lockdep.test.ts):
// a graph carried from one explored execution into the next made the reports an execution
// carries depend on the search order (chapter 09, C09.5-now, until December 2026). Priming
// that a real boot does before the test is a step of the execution (mmu_notifier_register,
// dma_resv_lockdep). Within one execution the graph is still plain state shared by all threads
// and not in any step's footprint: the SET of edges an execution records is the same in every
// interleaving of the same steps, so whether a cycle exists at the end is too, but which
// acquisition closes it, and how many reports it makes, are not: on chapter 09's SC09b
// (i915-2018-mn, now) DFS reaches a deadlock with 4 reports as well as one with 2, DPOR only the
// latter (December 2026). Predicates may ask whether an execution reports, not how often or which.
//
// Simplifications (and which way they err):
//  * Read acquisitions are treated as exclusive for cycle detection, as v4.16 lockdep did
//    (check_noncircular ignored read). Errs towards MORE reports in the "now" era, whose lockdep
//    distinguishes recursive reads (we model no rwlock recursive readers, so none in practice).
//  * No irq-safety (hardirq/softirq inversion) analysis: errs towards FEWER reports.
//  * Every cycle is reported (once per execution), not only the first of a boot: errs towards
//    MORE reports than one real boot shows, which is what the chapters want ("would report").

import type { Era } from "./era.ts";
import { heldWhere, type HeldLock, type Task } from "./task.ts";
import { ExplorerError, finding } from "../explorer/index.ts";

/** The frames of a held lock when no report can print them (the graph is off). */
const NO_FRAMES: readonly string[] = Object.freeze([]);

/** Where an edge was first made. */
/** Where an edge was made: a priming's reason, or the acquiring task's name and call frames (the
 *  text is built only when a splat prints it: every execution starts with an empty graph, so
 *  every edge is new in every execution). */
interface Edge {
  readonly why: string | null;
  readonly task: string;
  readonly frames: readonly string[];
}

export interface LockdepReport {
  readonly era: string;
  readonly kind: "circular" | "recursive";
  /** Class names of the cycle, starting with the lock being acquired. */
  readonly cycle: readonly string[];
  readonly splat: string;
}

/** Names of the pseudo-locks, as lockdep prints them. */
export const FS_RECLAIM = "fs_reclaim";
export const NOTIFIER_MAP = "mmu_notifier_invalidate_range_start";

export class Lockdep {
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  /** edges[a].get(b): a was held when b was acquired, at any earlier time in this execution. */
  private readonly edges: Map<number, Edge>[] = [];
  /** Bumped when an edge is added: cached "no cycle through this edge" answers expire. */
  private version = 0;
  private readonly noCycleAt = new Map<number, number>();
  /** Cycles already reported in this execution. */
  private readonly reported = new Set<string>();

  /**
   * `graph`: whether this execution keeps the dependency graph and reports. boot() passes
   * subscribed("lockdep") (lib/explorer/subscriptions.ts): the graph is ghost state that no thread
   * reads and its findings never end an execution, so a search whose claims do not read "lockdep"
   * leaves it out and explores the same tree (test/kernel/lockdep-subscribed.test.ts; and
   * test/kernel/subscriptions.test.ts replays kernels booted without it, step for step, with it
   * on). Held locks are kept either way: the locks and dma_fence_begin_signalling read them.
   */
  constructor(readonly era: Era, readonly graph = true) {}

  /** Intern a lock class by name (lockdep keys classes by init site; we key them by name). */
  classId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
      this.edges.push(new Map());
    }
    return id;
  }
  className(id: number): string {
    return this.names[id];
  }

  /** Does this execution's graph have the edge a -> b? (for tests and chapters) */
  hasEdge(a: string, b: string): boolean {
    if (!this.graph)
      throw new ExplorerError(`lockdep's graph is not kept in this search: no claim of it reads "lockdep" findings. Add "lockdep" to the claim's reads to ask about edges.`);
    const x = this.ids.get(a), y = this.ids.get(b);
    return x !== undefined && y !== undefined && this.edges[x].has(y);
  }

  /** Record edges along a chain, as boot-time or registration priming does (e.g. dma_resv_lockdep()). */
  prime(chain: readonly string[], why: string): void {
    if (!this.graph) return;
    for (let i = 0; i + 1 < chain.length; i++) this.addEdge(this.classId(chain[i]), this.classId(chain[i + 1]), { why: `priming: ${why}`, task: "", frames: [] });
  }

  private addEdge(a: number, b: number, e: Edge): void {
    if (this.edges[a].has(b)) return;
    this.edges[a].set(b, e);
    this.version++;
  }

  /** Shortest path from `from` to `to` in the graph (class ids), or null. */
  private path(from: number, to: number): number[] | null {
    if (from === to) return [from];
    const prev = new Map<number, number>([[from, -1]]);
    const queue = [from];
    for (let qi = 0; qi < queue.length; qi++) {
      const a = queue[qi];
      for (const b of this.edges[a].keys()) {
        if (prev.has(b)) continue;
        prev.set(b, a);
        if (b === to) {
          const p = [b];
          for (let x = a; x !== -1; x = prev.get(x)!) p.push(x);
          return p.reverse();
        }
        queue.push(b);
      }
    }
    return null;
  }

  /**
   * lock_acquire: called before the task may block on the lock (as mutex_lock calls
   * mutex_acquire before __mutex_lock), so a report comes out even if the task then deadlocks.
   */
  acquire(task: Task, cls: number, name: string, read: 0 | 1 | 2 = 0, trylock = false): void {
    if (!this.graph) {
      task.held.push({ cls, name, read, trylock, frames: NO_FRAMES });
      return;
    }
    // Recursive acquisition of a non-recursive class (print_deadlock_bug).
    if (read !== 2) {
      for (const h of task.held) {
        if (h.cls === cls && !trylock) {
          this.reportRecursive(task, h, cls, name);
          break;
        }
      }
    }
    // One copy of the frames for the held entry and every edge made here, not the joined "where"
    // text: that is built only if a report needs it.
    const frames = task.frames.slice();
    if (!trylock) {
      for (const h of task.held) {
        if (h.cls === cls) continue;
        if (!this.edges[h.cls].has(cls)) this.addEdge(h.cls, cls, { why: null, task: task.name, frames });
        this.checkCycle(task, h, cls);
      }
    }
    task.held.push({ cls, name, read, trylock, frames });
  }

  /** lock_release. Releasing a class the task does not hold is ignored (untracked paths). */
  release(task: Task, cls: number): void {
    for (let i = task.held.length - 1; i >= 0; i--) {
      if (task.held[i].cls === cls) {
        task.held.splice(i, 1);
        return;
      }
    }
  }

  /** lock_map_acquire / lock_map_release: pseudo-locks. read: lock_map_acquire_read = 2. */
  mapAcquire(task: Task, map: string, read: 0 | 1 | 2 = 0): void {
    this.acquire(task, this.classId(map), map, read);
  }
  mapRelease(task: Task, map: string): void {
    this.release(task, this.classId(map));
  }
  /** might_lock / lock_map_acquire+release: "this code may take / wait for X". */
  touch(task: Task, map: string, read: 0 | 1 | 2 = 0): void {
    this.mapAcquire(task, map, read);
    this.mapRelease(task, map);
  }

  private checkCycle(task: Task, held: HeldLock, cls: number): void {
    const key = held.cls * 65536 + cls;
    if (this.noCycleAt.get(key) === this.version) return;
    const back = this.path(cls, held.cls);
    if (back === null) {
      this.noCycleAt.set(key, this.version);
      return;
    }
    const cycleKey = [...back].sort((a, b) => a - b).join(",");
    if (this.reported.has(cycleKey)) return;
    this.reported.add(cycleKey);
    const splat = this.formatCircular(task, held, cls, back);
    const report: LockdepReport = { era: this.era.name, kind: "circular", cycle: back.map((i) => this.names[i]), splat };
    finding("lockdep", splat, report);
  }

  private reportRecursive(task: Task, held: HeldLock, cls: number, name: string): void {
    const key = `rec:${cls}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const c = this.names[cls];
    const splat = [
      "============================================",
      `WARNING: possible recursive locking detected (lockdep, era ${this.era.name})`,
      "--------------------------------------------",
      `${task.name} is trying to acquire lock:`,
      ` (${c}), instance ${name}, at: ${task.where()}`,
      "",
      "but task is already holding lock:",
      ` (${c}), instance ${held.name}, at: ${heldWhere(task, held)}`,
      "",
      "other info that might help us debug this:",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0",
      "       ----",
      `  lock(${c});`,
      `  lock(${c});`,
      "",
      " *** DEADLOCK ***",
      "",
      " May be due to missing lock nesting notation",
    ].join("\n");
    const report: LockdepReport = { era: this.era.name, kind: "recursive", cycle: [c], splat };
    finding("lockdep", splat, report);
  }

  /**
   * The splat of print_circular_bug: headline, the lock being taken and the one held, the
   * existing chain in reverse order with where each edge was made, and the CPU0 | CPU1 table
   * of print_circular_lock_scenario. `back` is the path new -> ... -> held.
   */
  private formatCircular(task: Task, held: HeldLock, cls: number, back: number[]): string {
    const n = (i: number) => this.names[i];
    const target = n(cls), source = n(held.cls);
    // The lock just before `held` on the existing chain (print_circular_lock_scenario's parent).
    const parent = n(back[back.length - 2]);
    const lines = [
      "======================================================",
      `WARNING: possible circular locking dependency detected (lockdep, era ${this.era.name})`,
      "------------------------------------------------------",
      `${task.name} is trying to acquire lock:`,
      ` (${target}), at: ${task.where()}`,
      "",
      "but task is already holding lock:",
      ` (${source}), at: ${heldWhere(task, held)}`,
      "",
      "which lock already depends on the new lock.",
      "",
      "the existing dependency chain (in reverse order) is:",
    ];
    // Reverse order: #k is the edge into back[k+1]... print from the held lock back to the new one.
    for (let k = back.length - 1; k >= 1; k--) {
      const e = this.edges[back[k - 1]].get(back[k])!;
      const where = e.why ?? `${e.frames.length ? `${e.task}: ${e.frames.join(" › ")}` : e.task} (acquired ${n(back[k])} while holding ${n(back[k - 1])})`;
      lines.push("", `-> #${k} (${n(back[k])}):`, `       ${n(back[k - 1])} -> ${n(back[k])} made by ${where}`);
    }
    lines.push("", `-> #0 (${target}):`, `       ${source} -> ${target} made by ${task.where()}`, "", "other info that might help us debug this:", "");
    if (back.length > 2) lines.push("Chain exists of:", `  ${back.map(n).join(" --> ")}`, "");
    const pad = (s: string) => "                               " + s;
    lines.push(
      " Possible unsafe locking scenario:",
      "",
      "       CPU0                    CPU1",
      "       ----                    ----",
      `  lock(${source});`,
      pad(`lock(${parent});`),
      pad(`lock(${source});`),
      `  lock(${target});`,
      "",
      " *** DEADLOCK ***",
    );
    return lines.join("\n");
  }
}
