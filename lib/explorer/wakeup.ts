// Wakeup trees for optimal DPOR: Abdulla, Aronis, Jonsson, Sagonas, "Source Sets: A Foundation
// for Optimal Dynamic Partial Order Reduction", JACM 64(4) 2017, §6 (Definitions 6.1-6.2,
// Algorithm 3). A wakeup tree at a node of the search is an ordered tree of event sequences that
// must be explored from that node; its leaves are the sequences that reverse races found so far.
//
// An event here is what a thread's next step is, known before it runs: its thread, footprint
// (effect.ts), whether it ended the execution (then it is dependent with every other thread's
// step, as in dpor.ts), and the choose() values made while it ran. The model is deterministic, so
// a thread's next step after a given prefix is always the same event; choose() values are part
// of the event because they decide what the thread does after it.
//
// Threads and objects in events go by names that hold across executions (dpor.ts, stableIds): a
// thread spawned by spawn() by its creation path, not by its index, which is given in schedule
// order, so that a sequence found in one execution names the same threads when it is replayed
// after a reordered prefix. A spawn is dependent with every event of the thread it creates (the
// child cannot run before it exists): `sp` names that thread.

import { stepsConflict } from "./effect.ts";

export interface WuEvent {
  readonly t: number;
  readonly o: number;
  readonly m: number;
  readonly f: readonly number[] | null;
  /** The step ended the execution ({ end: true }): dependent with every other thread's step. */
  readonly g: boolean;
  /** choose() values made in the step, joined; null when unknown (a step that did not run). */
  readonly ch: string | null;
  /** The thread this step spawned (its stable id), else -1. */
  readonly sp: number;
}

export interface WuNode {
  readonly ev: WuEvent;
  readonly children: WuNode[];
}

/** Two events of different threads are dependent iff one ended the execution, one spawned the
 *  other's thread, or their footprints conflict. */
export function dependent(a: WuEvent, b: WuEvent): boolean {
  if (a.t === b.t) return true;
  return a.g || b.g || a.sp === b.t || b.sp === a.t || stepsConflict(a.o, a.m, a.f, b.o, b.m, b.f);
}

/** No earlier event of w is dependent with w[i] (w[i] is the first of its thread): it is an initial of w. */
function initialAt(w: readonly WuEvent[], i: number): boolean {
  for (let a = 0; a < i; a++) if (dependent(w[a], w[i])) return false;
  return true;
}

/**
 * Is thread e.t (whose next event is e) a weak initial of w (JACM Def. 4.3: e.t ∈ WI(w))? Either
 * e.t's first event in w is an initial of w, or e.t has no event in w and e is independent of all of w.
 */
export function weakInitial(e: WuEvent, w: readonly WuEvent[]): boolean {
  for (let i = 0; i < w.length; i++) if (w[i].t === e.t) return initialAt(w, i);
  for (const x of w) if (dependent(e, x)) return false;
  return true;
}

const sameChoices = (a: string | null, b: string | null): boolean => a === null || b === null || a === b;

/**
 * insert[E](w, wut) (JACM Def. 6.2): walk down the tree along the first child (in exploration
 * order) whose event is a weak initial of what is left of w, removing that event from w. Reaching
 * a leaf means some sequence already in the tree is compatible with w (w is covered); when no
 * child fits, the rest of w becomes a new branch, explored after every existing one.
 * A leaf covers any choose() values of its own event, since the search explores every value of
 * a step's choices at its node; below a leaf-less child the values must match.
 * Returns whether the tree changed. `kids` is the list of pending children at the insertion node.
 */
export function insert(kids: WuNode[], w: readonly WuEvent[]): boolean {
  let rest = w.slice();
  let level = kids;
  outer: while (rest.length > 0) {
    for (const c of level) {
      const i = rest.findIndex((e) => e.t === c.ev.t);
      if (i >= 0) {
        if (!initialAt(rest, i)) continue;
        if (c.children.length === 0) return false;
        if (!sameChoices(c.ev.ch, rest[i].ch)) continue;
        rest.splice(i, 1);
      } else {
        if (!weakInitial(c.ev, rest)) continue;
        if (c.children.length === 0) return false;
      }
      level = c.children;
      continue outer;
    }
    level.push(chain(rest));
    return true;
  }
  return false;
}

/** w as a branch: w[0] with w[1] below it, and so on. */
export function chain(w: readonly WuEvent[]): WuNode {
  let node: WuNode = { ev: w[w.length - 1], children: [] };
  for (let i = w.length - 2; i >= 0; i--) node = { ev: w[i], children: [node] };
  return node;
}

/** Number of leaves (tests, debugging). */
export function leaves(kids: readonly WuNode[]): number {
  let n = 0;
  for (const c of kids) n += c.children.length ? leaves(c.children) : 1;
  return n;
}
