// spinlock_t (include/linux/spinlock.h): busy-wait, atomic context while held (preempt count),
// the _irq variants also disable interrupts. No sleeping while held: the context rules
// (task.ts mightSleep) report `sleep-in-atomic` for any sleeping operation in between.
//
// Modelled as a blocking lock: a spinning task makes no progress either, and the explorer's
// wait-for graph then sees the spin as a wait (a spin deadlock is a deadlock).

import { ExplorerError, Obj, noteAcquired, noteReleased, finding } from "../explorer/index.ts";
import type { Touch, Yieldable } from "../explorer/index.ts";
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
    this.observe("spin_trylock");
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

  /**
   * spin_lock(); body; spin_unlock() as ONE step: for a critical section that neither sleeps nor
   * reaches another scheduling point, whose shared state is plain data the lock guards. The step
   * waits for the lock to be free and leaves it free, so it reads the lock (mode "r"): two
   * sections commute as far as the lock goes, and every lock()/unlock() (a write) still orders
   * against them. What the sections themselves must not reorder is said by `also`: the guarded
   * data as explorer objects, each with the mode of the body's access ("u" where every section
   * applies commuting updates, such as counters). Nothing can see the lock held by a section:
   * there is no spin_trylock or spin_is_locked on it in the model (both are refused), and a trace
   * shows the lock in no step's held set. The thread's code after the step, up to its next
   * scheduling point, runs in the same step: under "u" it must not read the data either.
   */
  *section<T>(label: string, also: readonly Touch[], body: () => T): Generator<Yieldable, T, unknown> {
    const t = this.k.current();
    if (this.observed) throw new ExplorerError(`Spinlock ${this.name}: a critical section runs as one step (section()), but the model also tries or tests this lock (spin_trylock, spin_is_locked), which could never see such a section held. Take it with lock() and unlock() there, or do not try it.`);
    this.sections = true;
    this.k.lockdep.acquire(t, this.cls, this.name);
    return yield* this.access<T>("section", "r", {
      label: `spin_lock(${this.name}); ${label}; spin_unlock(${this.name})`,
      enabled: () => this.owner === -1,
      also,
      run: () => {
        t.atomic++;
        noteAcquired(this.name);
        const v = body();
        t.atomic--;
        this.k.lockdep.release(t, this.cls);
        noteReleased(this.name);
        return v;
      },
    });
  }
  /** Some critical section on this lock ran as one step (section()). */
  private sections = false;
  /** Some thread tried or tested this lock (trylock, isLocked): no section may run as one step. */
  private observed = false;
  private observe(what: string): void {
    if (this.sections) throw new ExplorerError(`Spinlock ${this.name}: ${what} could never see one of its critical sections held, since they run as one step (section()). Take it with lock() and unlock() in those sections, or do not try it.`);
    this.observed = true;
  }

  isLocked(): boolean {
    this.observe("spin_is_locked");
    return this.owner !== -1;
  }
  override holders(): readonly number[] {
    return this.owner === -1 ? [] : [this.owner];
  }
}

/**
 * The plain data a spinlock guards, as one explorer object: what the lock's one-step critical
 * sections (Spinlock.section) say they touch, so that two of them that do not commute stay
 * ordered. `updates`: every section applies updates that commute and returns nothing that
 * depends on their order (counters moved by constants); `reads`; `writes`: anything else.
 */
export class Guarded extends Obj {
  readonly updates: readonly Touch[];
  readonly reads: readonly Touch[];
  readonly writes: readonly Touch[];
  constructor(name: string) {
    super("data", name);
    this.updates = Object.freeze([Object.freeze({ obj: this, mode: "u" as const })]);
    this.reads = Object.freeze([Object.freeze({ obj: this, mode: "r" as const })]);
    this.writes = Object.freeze([Object.freeze({ obj: this, mode: "w" as const })]);
  }
}
