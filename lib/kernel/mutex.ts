// struct mutex (kernel/locking/mutex.c): sleeping, owner-only unlock, no recursion.
// mutex_trylock_recursive (include/linux/mutex.h, v4.16; removed in v5.12 by 0f319d49a416)
// returns RECURSIVE when the caller already owns the lock, which i915's 2018 shrinker used.
//
// Lock rule for the fields below: they change only inside this object's access() steps.

import { Obj, noteAcquired, noteReleased, finding } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { mightSleep } from "./task.ts";

export type TrylockRecursive = "RECURSIVE" | "SUCCESS" | "FAILED";

export class KMutex extends Obj {
  /** Owning thread index, -1 when free. Invariant: owner >= 0 iff the lock is in owner's held list. */
  private owner = -1;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.owner;
  }
  setGuardState(s: unknown): void {
    this.owner = s as number;
  }
  /** Lockdep class id. */
  readonly cls: number;
  /** Lockdep class of the current hold (cls, or a subclass's: mutex_lock_nested), -1 when free. */
  private heldCls = -1;
  constructor(
    private readonly k: Kernel,
    name: string,
    /** Lockdep class name (lockdep keys by init site); defaults to the instance name. */
    private readonly className = name,
  ) {
    super("mutex", name);
    this.cls = k.lockdep.classId(className);
  }

  /**
   * mutex_lock_nested() (and mutex_lock_killable_nested: no signals are modelled). Lockdep keeps
   * one class per (key, subclass), so a subclass other than 0 is a class of its own, named
   * `class/subclass` here: i915 takes struct_mutex and obj->mm.lock as I915_MM_SHRINKER (1) from
   * reclaim so that lockdep does not see them as recursion on the class taken outside reclaim.
   */
  *lockNested(subclass: number, label = `mutex_lock_nested(${this.name}, ${subclass})`): Generator<Yieldable, void, unknown> {
    yield* this.lockAs(subclass === 0 ? this.cls : this.k.lockdep.classId(`${this.className}/${subclass}`), label);
  }

  /** mutex_lock(). Locking a mutex the task already owns blocks forever (the explorer reports the deadlock; lockdep the recursion). */
  *lock(label = `mutex_lock(${this.name})`): Generator<Yieldable, void, unknown> {
    yield* this.lockAs(this.cls, label);
  }

  /** The sleeping acquisition, as lockdep class `cls` (which unlock releases). */
  private *lockAs(cls: number, label: string): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    mightSleep(t, label);
    this.k.lockdep.acquire(t, cls, this.name);
    yield* this.access<void>("lock", "w", {
      label,
      enabled: () => this.owner === -1,
      run: () => {
        this.owner = t.index;
        this.heldCls = cls;
        noteAcquired(this.name);
      },
    });
  }

  /** mutex_lock_killable(): no signals are modelled, so it always returns 0 after locking. */
  *lockKillable(label = `mutex_lock_killable(${this.name})`): Generator<Yieldable, number, unknown> {
    yield* this.lock(label);
    return 0;
  }

  /** mutex_trylock(): true if acquired. Never sleeps. */
  *trylock(label = `mutex_trylock(${this.name})`): Generator<Yieldable, boolean, unknown> {
    const t = this.k.current();
    return yield* this.access("trylock", "w", {
      label,
      run: () => {
        if (this.owner !== -1) return false;
        this.owner = t.index;
        this.heldCls = this.cls;
        this.k.lockdep.acquire(t, this.cls, this.name, 0, true);
        noteAcquired(this.name);
        return true;
      },
    });
  }

  /** mutex_trylock_recursive() (2018 only). The caller must not unlock after RECURSIVE. */
  *trylockRecursive(label = `mutex_trylock_recursive(${this.name})`): Generator<Yieldable, TrylockRecursive, unknown> {
    if (!this.k.era.mutexTrylockRecursive)
      throw new Error(`mutex_trylock_recursive does not exist in era "${this.k.era.name}" (removed in v5.12); use mutex_trylock or set era.mutexTrylockRecursive.`);
    const t = this.k.current();
    return yield* this.access("trylock", "w", {
      label,
      run: (): TrylockRecursive => {
        if (this.owner === t.index) return "RECURSIVE";
        if (this.owner !== -1) return "FAILED";
        this.owner = t.index;
        this.heldCls = this.cls;
        this.k.lockdep.acquire(t, this.cls, this.name, 0, true);
        noteAcquired(this.name);
        return "SUCCESS";
      },
    });
  }

  /** mutex_unlock(). Unlocking a mutex the task does not own is reported (`bad-unlock`) and ends the execution. */
  *unlock(label = `mutex_unlock(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    yield* this.access<void>("unlock", "w", {
      label,
      run: () => {
        if (this.owner !== t.index) {
          finding("bad-unlock", `${t.name} unlocked mutex ${this.name} which it does not own`, { lock: this.name }, { end: true });
          return;
        }
        this.owner = -1;
        this.k.lockdep.release(t, this.heldCls);
        this.heldCls = -1;
        noteReleased(this.name);
      },
    });
  }

  /** mutex_is_locked() without a scheduling point: for final() and assertions. */
  isLocked(): boolean {
    return this.owner !== -1;
  }
  /** Thread index of the owner, -1 if free (for final() and assertions). */
  ownerIndex(): number {
    return this.owner;
  }
  override holders(): readonly number[] {
    return this.owner === -1 ? [] : [this.owner];
  }
}
