// Wait queue with kernel wait_event()/wake_up() semantics, including lost wakeups
// when the model checks its condition without the queue (that is the point: the
// kernel model must be able to express that bug).
//
// waitEvent(cond) = prepare_to_wait; if cond() return; schedule() until a wake_up
// happened after prepare; repeat. cond is a generator so its reads are scheduling points.

import type { Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";

export class WaitQueue extends Obj {
  /** Incremented by every wake(); a sleeper runs again once it differs from the value at prepare. */
  private generation = 0;
  constructor(name: string) {
    super("waitqueue", name);
  }
  *waitEvent(cond: () => Generator<Yieldable, boolean, unknown>, label?: string): Generator<Yieldable, void, unknown> {
    for (;;) {
      const seen = yield* this.access("prepare_to_wait", "w", { label, run: () => this.generation });
      if (yield* cond()) return;
      yield* this.access<void>("schedule", "w", { label, enabled: () => this.generation !== seen });
    }
  }
  /** Guard state (effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.generation;
  }
  setGuardState(s: unknown): void {
    this.generation = s as number;
  }
  /** Sleepers compare the generation with the one they saw (in their own history): keep it exact. */
  snapshot(): number {
    return this.generation;
  }
  restore(s: unknown): void {
    this.generation = s as number;
  }
  /** Symmetry reduction (symmetry.ts): this key names no thread. */
  get threadsInKey(): "none" {
    return "none";
  }
  stateKey(): number {
    return this.generation;
  }
  wake(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("wake_up", "w", { label, run: () => void (this.generation += 1) });
  }
}
