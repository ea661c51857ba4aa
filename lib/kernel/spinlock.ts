// spinlock_t (include/linux/spinlock.h): busy-wait, atomic context while held (preempt count),
// the _irq variants also disable interrupts. No sleeping while held: the context rules
// (task.ts mightSleep) report `sleep-in-atomic` for any sleeping operation in between.
//
// Modelled as a blocking lock: a spinning task makes no progress either, and the explorer's
// wait-for graph then sees the spin as a wait (a spin deadlock is a deadlock).

import { Obj, noteAcquired, noteReleased, finding } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";

export class Spinlock extends Obj {
  /** Owning thread index, -1 when free. */
  private owner = -1;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.owner;
  }
  setGuardState(s: unknown): void {
    this.owner = s as number;
  }
  /** Whether the owner took it with spin_lock_irq (restored at unlock). */
  private irq = false;
  readonly cls: number;
  constructor(
    private readonly k: Kernel,
    name: string,
    className = name,
  ) {
    super("spinlock", name);
    this.cls = k.lockdep.classId(className);
  }

  /** spin_lock(); spin_lock_irq() with irq = true. */
  *lock(irq = false, label = `${irq ? "spin_lock_irq" : "spin_lock"}(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    this.k.lockdep.acquire(t, this.cls, this.name);
    yield* this.access<void>("lock", "w", {
      label,
      enabled: () => this.owner === -1,
      run: () => {
        this.owner = t.index;
        this.irq = irq;
        t.atomic++;
        if (irq) t.irqsOff++;
        noteAcquired(this.name);
      },
    });
  }

  /** spin_trylock(). */
  *trylock(label = `spin_trylock(${this.name})`): Generator<Yieldable, boolean, unknown> {
    const t = this.k.current();
    return yield* this.access("trylock", "w", {
      label,
      run: () => {
        if (this.owner !== -1) return false;
        this.owner = t.index;
        this.irq = false;
        t.atomic++;
        this.k.lockdep.acquire(t, this.cls, this.name, 0, true);
        noteAcquired(this.name);
        return true;
      },
    });
  }

  /** spin_unlock() / spin_unlock_irq(). */
  *unlock(label = `spin_unlock(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    yield* this.access<void>("unlock", "w", {
      label,
      run: () => {
        if (this.owner !== t.index) {
          finding("bad-unlock", `${t.name} unlocked spinlock ${this.name} which it does not hold`, { lock: this.name }, { end: true });
          return;
        }
        this.owner = -1;
        t.atomic--;
        if (this.irq) t.irqsOff--;
        this.k.lockdep.release(t, this.cls);
        noteReleased(this.name);
      },
    });
  }

  isLocked(): boolean {
    return this.owner !== -1;
  }
  override holders(): readonly number[] {
    return this.owner === -1 ? [] : [this.owner];
  }
}
