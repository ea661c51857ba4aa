// Counting semaphore: down() blocks at zero, up() increments.

import type { Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";

export class Semaphore extends Obj {
  /** Invariant: count >= 0. */
  private count: number;
  constructor(name: string, initial: number) {
    super("semaphore", name);
    this.count = initial;
  }
  down(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("down", "w", { label, enabled: () => this.count > 0, run: () => void (this.count -= 1) });
  }
  up(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("up", "w", { label, run: () => void (this.count += 1) });
  }
  /** Guard state (effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.count;
  }
  setGuardState(s: unknown): void {
    this.count = s as number;
  }
  snapshot(): number {
    return this.count;
  }
  restore(s: unknown): void {
    this.count = s as number;
  }
  /** Symmetry reduction (symmetry.ts): this key names no thread. */
  get threadsInKey(): "none" {
    return "none";
  }
  stateKey(): number {
    return this.count;
  }
  value(): number {
    return this.count;
  }
}
