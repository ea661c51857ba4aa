// Completion (kernel struct completion): wait() blocks until complete() has been
// called more times than wait() returned; completeAll() releases every waiter forever.

import type { Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";

export class Completion extends Obj {
  /** Number of un-consumed complete() calls; Infinity after completeAll(). */
  private done = 0;
  constructor(name: string) {
    super("completion", name);
  }
  wait(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("wait", "w", { label, enabled: () => this.done > 0, run: () => void (this.done -= 1) });
  }
  complete(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("signal", "w", { label, run: () => void (this.done += 1) });
  }
  completeAll(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("signal-all", "w", { label, run: () => void (this.done = Infinity) });
  }
  /** Guard state (effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.done;
  }
  setGuardState(s: unknown): void {
    this.done = s as number;
  }
  snapshot(): number {
    return this.done;
  }
  restore(s: unknown): void {
    this.done = s as number;
  }
  /** Symmetry reduction (symmetry.ts): this key names no thread. */
  get threadsInKey(): "none" {
    return "none";
  }
  stateKey(): number {
    return this.done;
  }
  isDone(): boolean {
    return this.done > 0;
  }
}
