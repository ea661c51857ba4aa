// A non-recursive sleeping lock (kernel struct mutex / spinlock semantics for
// exploration purposes). lock() blocks while another thread holds it; locking it
// again from the owner deadlocks (a one-thread wait-for cycle), as in the kernel.

import type { Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";
import { runtime } from "./context.ts";

export class Mutex extends Obj {
  /** Owning thread index, -1 when free. Invariant: owner >= 0 iff the name is in owner's held list. */
  private owner = -1;
  constructor(name: string) {
    super("mutex", name);
  }
  lock(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("lock", "w", {
      label,
      enabled: () => this.owner === -1,
      run: () => {
        const rt = runtime("Mutex.lock");
        this.owner = rt.currentThread();
        rt.held(this.owner).push(this.name);
      },
    });
  }
  /** Non-blocking attempt; true if acquired. */
  tryLock(label?: string): Generator<Yieldable, boolean, unknown> {
    return this.access("trylock", "w", {
      label,
      run: () => {
        if (this.owner !== -1) return false;
        const rt = runtime("Mutex.tryLock");
        this.owner = rt.currentThread();
        rt.held(this.owner).push(this.name);
        return true;
      },
    });
  }
  unlock(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("unlock", "w", {
      label,
      run: () => {
        const rt = runtime("Mutex.unlock");
        const me = rt.currentThread();
        if (this.owner !== me) {
          rt.report("bad-unlock", `${rt.threadName(me)} unlocked ${this.name} which it does not hold`, { lock: this.name }, { end: true });
          return;
        }
        this.owner = -1;
        const h = rt.held(me);
        h.splice(h.lastIndexOf(this.name), 1);
      },
    });
  }
  /** The holder thread (index) is the whole state; symmetry reduction renames it (symmetry.ts). */
  stateKey(rename?: readonly number[]): number {
    return rename && this.owner >= 0 ? rename[this.owner] : this.owner;
  }
  get threadsInKey(): "renamed" {
    return "renamed";
  }
  /** Guard state (effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.owner;
  }
  setGuardState(s: unknown): void {
    this.owner = s as number;
  }
  snapshot(): number {
    return this.owner;
  }
  restore(s: unknown): void {
    this.owner = s as number;
  }
  isLocked(): boolean {
    return this.owner !== -1;
  }
  override holders(): readonly number[] {
    return this.owner === -1 ? [] : [this.owner];
  }
}
