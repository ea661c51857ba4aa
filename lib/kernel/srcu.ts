// SRCU (kernel/rcu/srcutree.c) as the notifier list uses it: readers never block,
// synchronize_srcu sleeps until readers are gone.
//
// Simplification: synchronize_srcu waits until NO reader is inside, not only the readers that
// started before it. Errs towards longer waits (a reported stall or deadlock could be one the
// kernel would not have); notifier readers are short, so no scenario depends on it.

import { Obj } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { mightSleep } from "./task.ts";

export class Srcu extends Obj {
  /** Readers inside a read-side critical section. */
  private readers = 0;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.readers;
  }
  setGuardState(s: unknown): void {
    this.readers = s as number;
  }
  constructor(
    private readonly k: Kernel,
    name: string,
  ) {
    super("srcu", name);
  }
  /** srcu_read_lock(): returns the index to pass to srcu_read_unlock (always 0 here). */
  *readLock(label = `srcu_read_lock(${this.name})`): Generator<Yieldable, number, unknown> {
    return yield* this.access("srcu_read_lock", "r", { label, run: () => ((this.readers++), 0) });
  }
  *readUnlock(label = `srcu_read_unlock(${this.name})`): Generator<Yieldable, void, unknown> {
    yield* this.access<void>("srcu_read_unlock", "r", { label, run: () => void this.readers-- });
  }
  /** synchronize_srcu(): sleeps until no reader is inside. */
  *synchronize(label = `synchronize_srcu(${this.name})`): Generator<Yieldable, void, unknown> {
    mightSleep(this.k.current(), label);
    yield* this.access<void>("wait", "w", { label, enabled: () => this.readers === 0 });
  }
}
