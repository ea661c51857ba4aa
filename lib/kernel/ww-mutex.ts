// Wound/wait mutexes with acquire contexts (kernel-semantics §24). Model of
// kernel/locking/ww_mutex.h (__ww_mutex_check_kill, __ww_mutex_die, __ww_mutex_wound,
// __ww_mutex_add_waiter, ww_mutex_lock_acquired), kernel/locking/mutex.c (ww_mutex_lock,
// ww_mutex_unlock), include/linux/ww_mutex.h (ww_acquire_init/done/fini, ww_mutex_lock_slow,
// ww_mutex_trylock) and Documentation/locking/ww-mutex-design.rst.
//
// Stamps: ww_acquire_init takes the class's next stamp (lower = older = wins).
//  * Wait-Die (DEFINE_WD_CLASS; reservation_ww_class; the only algorithm in 2018): a requester
//    that already holds a lock of the transaction (acquired > 0) DIES (-EDEADLK) if the holder,
//    or a waiter queued ahead of it (waiters are sorted by stamp, so: an older waiter), is older.
//    An older requester waits. The decision is re-made whenever the lock's state changes (the
//    kernel wakes waiters so they can die).
//  * Wound-Wait (DEFINE_WW_CLASS, v4.19): an older requester marks a younger holder wounded; the
//    wounded holder gets -EDEADLK at its next contended acquisition (also if already waiting).
// -EDEADLK is never returned when ctx holds no lock. After it, the protocol is: unlock every lock
// of the ctx, then ww_mutex_lock_slow(contended) before any other lock. Violations are reported
// as `ww-violation` (the kernel's DEBUG_WW_MUTEXES warnings), as are locking after
// ww_acquire_done and ww_acquire_fini with locks held.
//
// Explorer objects. Wound-Wait: ALL mutexes of the class share the class's object: a wound is set
// by a step on one lock and read by a waiter blocked on another, so one object keeps DPOR's
// dependency relation sound. Wait-Die (issue 13): each mutex is an object of its own. No step on
// one Wait-Die mutex reads what a step on another writes: a lock step reads and writes that
// mutex's fields and the requester's own context (only its own thread's steps change it), and
// reads other contexts' stamps, which never change. The class object then orders only
// ww_acquire_init (the stamp counter). The mutex's fields sit behind accessors that check, in every
// execution, that the running step declares the mutex (explorer footprint.ts), so a step that
// reaches them from another object's step, or from thread code between steps, is an internal
// error, not a lost trace. Before the split, 98% of the races that added a DPOR backtrack point in
// chapter 01's SC01a were between locks of different buffers on the shared class object.
// Lockdep: the acquire context is a lock (`<class>_acquire`) held from init to fini; the mutexes
// are one class (`<class>_mutex`) nested under it, so only the first one a task holds is a lockdep
// acquisition (mutex_acquire_nest). A second context of the class in one task is recursion.

import { Obj, finding, noteAcquired, noteReleased } from "../explorer/index.ts";
import { checkFootprint } from "../explorer/footprint.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { Task } from "./task.ts";
import { mightSleep } from "./task.ts";
import { requireDev } from "./device-era.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const EDEADLK = -35;
export const EALREADY = -114;
export const EBUSY = -16;

export class WwClass extends Obj {
  /** Next stamp (atomic_long_inc_return(&class->stamp)). Changed only in this object's steps. */
  stamp = 0;
  readonly locks: WwMutex[] = [];
  readonly mutexCls: number;
  readonly acquireCls: number;
  constructor(
    readonly k: Kernel,
    name: string,
    /** true: Wait-Die (DEFINE_WD_CLASS); false: Wound-Wait (DEFINE_WW_CLASS). */
    readonly waitDie: boolean,
  ) {
    super("ww_class", name);
    this.mutexCls = k.lockdep.classId(`${name}_mutex`);
    this.acquireCls = k.lockdep.classId(`${name}_acquire`);
  }
  step<T>(label: string, run: () => T, enabled?: () => boolean): Gen<T> {
    return this.access("ww", "w", { label, run, enabled });
  }
  /** Wait-for graph: owners of the locks somebody is waiting for. */
  override holders(): readonly number[] {
    const out: number[] = [];
    for (const l of this.locks) if (l.rawWaiting > 0 && l.rawOwner >= 0 && !out.includes(l.rawOwner)) out.push(l.rawOwner);
    return out;
  }
}

/** struct ww_acquire_ctx. Fields change only in its own task's steps, except `wounded`, which a
 *  Wound-Wait requester sets in a step on the class object; other tasks read only `stamp`. */
export class WwAcquireCtx {
  acquired = 0;
  wounded = false;
  /** The lock that returned -EDEADLK, until ww_mutex_lock_slow takes it. */
  contending: WwMutex | null = null;
  done = false;
  finished = false;
  constructor(
    readonly cls: WwClass,
    readonly stamp: number,
    readonly task: Task,
  ) {}
  get name(): string {
    return `ctx#${this.stamp}(${this.task.name})`;
  }
}

/** The explorer object of one Wait-Die mutex. */
class WwLockObj extends Obj {
  constructor(readonly lock: WwMutex) {
    super("ww_mutex", lock.name);
  }
  step<T>(label: string, run: () => T, enabled?: () => boolean): Gen<T> {
    return this.access("ww", "w", { label, run, enabled });
  }
  /** Wait-for graph: the owner, while somebody waits (explorer analysis: raw fields, no step). */
  override holders(): readonly number[] {
    return this.lock.rawWaiting > 0 && this.lock.rawOwner >= 0 ? [this.lock.rawOwner] : [];
  }
}

/** struct ww_mutex. Its fields are read and written only in steps on `home` (checked). */
export class WwMutex {
  /** The explorer object its steps are on: its own (Wait-Die) or the class's (Wound-Wait). */
  readonly home: WwLockObj | WwClass;
  private _ctx: WwAcquireCtx | null = null;
  private _owner = -1;
  private readonly _waiters: WwAcquireCtx[] = [];
  private _waiting = 0;
  constructor(
    readonly cls: WwClass,
    readonly name: string,
  ) {
    cls.locks.push(this);
    this.home = cls.waitDie ? new WwLockObj(this) : cls;
  }
  /** One step on this mutex (its own object, or the class's for Wound-Wait). */
  step<T>(label: string, run: () => T, enabled?: () => boolean): Gen<T> {
    return this.home.step(label, run, enabled);
  }
  /** Owning context (null with a NULL-ctx holder or free). */
  get ctx(): WwAcquireCtx | null {
    checkFootprint(this.home, false, "ctx");
    return this._ctx;
  }
  set ctx(c: WwAcquireCtx | null) {
    checkFootprint(this.home, true, "ctx");
    this._ctx = c;
  }
  /** Owning thread index, -1 when free. */
  get ownerThread(): number {
    checkFootprint(this.home, false, "ownerThread");
    return this._owner;
  }
  set ownerThread(t: number) {
    checkFootprint(this.home, true, "ownerThread");
    this._owner = t;
  }
  /** Contexts waiting, sorted by stamp (oldest first). Mutated in place: a write access. */
  get waiters(): WwAcquireCtx[] {
    checkFootprint(this.home, true, "waiters");
    return this._waiters;
  }
  /** Tasks blocked on it (with or without ctx), for the wait-for graph. */
  get waiting(): number {
    checkFootprint(this.home, false, "waiting");
    return this._waiting;
  }
  set waiting(n: number) {
    checkFootprint(this.home, true, "waiting");
    this._waiting = n;
  }
  isLocked(): boolean {
    return this.ownerThread >= 0;
  }
  /** Is it held by thread t / under ctx? Callable between steps by that thread (or ctx's): only
   *  its own steps change the answer, so no other thread's step can make it stale. */
  heldByThread(t: number): boolean {
    return this._owner === t;
  }
  heldByCtx(ctx: WwAcquireCtx): boolean {
    return this._ctx === ctx;
  }
  /** Raw state for the explorer's wait-for graph (never for model decisions). */
  get rawOwner(): number {
    return this._owner;
  }
  get rawWaiting(): number {
    return this._waiting;
  }
}

/** DEFINE_WD_CLASS / DEFINE_WW_CLASS: one class object per kernel and name. */
export function ww_class(k: Kernel, name: string, waitDie = true): WwClass {
  const m = (k.wwClasses ??= new Map());
  let c = m.get(name);
  if (!c) {
    if (!waitDie) requireDev(k, "woundWait", "DEFINE_WW_CLASS (wound-wait)", "v4.19");
    m.set(name, (c = new WwClass(k, name, waitDie)));
  }
  return c;
}

/** reservation_ww_class (drivers/dma-buf/dma-resv.c): Wait-Die in both eras. */
export function reservation_ww_class(k: Kernel): WwClass {
  return ww_class(k, "reservation_ww_class", true);
}

export function ww_mutex_init(cls: WwClass, name: string): WwMutex {
  return new WwMutex(cls, name);
}

function violation(msg: string, ctx: WwAcquireCtx | null): void {
  finding("ww-violation", msg, { ctx: ctx?.name });
}

// Per task: how many mutexes of a class it holds (lockdep sees only the first: nest_lock).
// A field of the task (Task.wwNested), not a WeakMap keyed by it: see Kernel.devState.
function nestCount(t: Task, cls: WwClass, delta: number): number {
  const m = (t.wwNested ??= new Map());
  const n = (m.get(cls.mutexCls) ?? 0) + delta;
  m.set(cls.mutexCls, n);
  return n;
}

/** ww_acquire_init: a new transaction with the class's next stamp. */
export function* ww_acquire_init(k: Kernel, cls: WwClass): Gen<WwAcquireCtx> {
  const t = k.current();
  k.lockdep.acquire(t, cls.acquireCls, `${cls.name}_acquire`);
  return yield* cls.step(`ww_acquire_init(${cls.name})`, () => new WwAcquireCtx(cls, ++cls.stamp, t));
}

/** ww_acquire_done: no more locks will be taken in this transaction. */
export function ww_acquire_done(ctx: WwAcquireCtx): void {
  ctx.done = true;
}

/** ww_acquire_fini: every lock must have been released. */
export function ww_acquire_fini(k: Kernel, ctx: WwAcquireCtx): void {
  if (ctx.acquired > 0) violation(`ww_acquire_fini(${ctx.name}) with ${ctx.acquired} lock(s) still held`, ctx);
  ctx.finished = true;
  k.lockdep.release(k.current(), ctx.cls.acquireCls);
}

/** Must ctx back off from lock now? (__ww_mutex_check_kill) */
function mustDie(ctx: WwAcquireCtx, lock: WwMutex): boolean {
  if (ctx.acquired === 0) return false;
  if (!lock.cls.waitDie) return ctx.wounded;
  if (lock.ctx && lock.ctx.stamp < ctx.stamp) return true;
  return lock.waiters.some((w) => w !== ctx && w.stamp < ctx.stamp);
}

function take(k: Kernel, lock: WwMutex, ctx: WwAcquireCtx | null, t: Task): void {
  lock.ctx = ctx;
  lock.ownerThread = t.index;
  if (ctx) {
    // Wound-Wait, on acquisition (ww_mutex_set_context_fastpath -> __ww_mutex_check_waiters ->
    // __ww_mutex_wound): an older waiter that holds locks wounds the new, younger holder.
    if (!lock.cls.waitDie && lock.waiters.some((w) => w !== ctx && w.acquired > 0 && w.stamp < ctx.stamp)) ctx.wounded = true;
    ctx.acquired++;
    if (ctx.contending === lock) ctx.contending = null;
  }
  noteAcquired(lock.name);
  void k;
}

/**
 * ww_mutex_lock(lock, ctx): 0, -EALREADY (ctx already holds it) or -EDEADLK (back off).
 * With ctx = null it is a plain mutex_lock.
 */
export function* ww_mutex_lock(k: Kernel, lock: WwMutex, ctx: WwAcquireCtx | null, label = `ww_mutex_lock(${lock.name})`): Gen<number> {
  const t = k.current();
  mightSleep(t, label);
  if (ctx) {
    if (ctx.done) violation(`${label} after ww_acquire_done(${ctx.name})`, ctx);
    if (ctx.finished) violation(`${label} with ${ctx.name} after ww_acquire_fini`, ctx);
    if (ctx.contending && ctx.contending !== lock) violation(`${label}: after -EDEADLK on ${ctx.contending.name}, ${ctx.name} must take that lock first with ww_mutex_lock_slow`, ctx);
    else if (ctx.contending && ctx.acquired > 0) violation(`${label}: after -EDEADLK, ${ctx.name} still holds ${ctx.acquired} lock(s); it must release all of them first`, ctx);
    if (ctx.cls !== lock.cls) violation(`${label}: ${ctx.name} is of class ${ctx.cls.name}, the lock of ${lock.cls.name}`, ctx);
  }
  // Lockdep: plain mutexes and the first lock under a context are acquisitions.
  const first = !ctx || nestCount(t, lock.cls, 0) === 0;
  if (first) k.lockdep.acquire(t, lock.cls.mutexCls, lock.name);
  const r = yield* lock.step(label, () => {
    if (ctx && lock.ctx === ctx) return EALREADY;
    if (ctx && ctx.acquired === 0) ctx.wounded = false;
    if (lock.ownerThread < 0) {
      take(k, lock, ctx, t);
      return 0;
    }
    if (ctx && mustDie(ctx, lock)) {
      ctx.contending = lock;
      return EDEADLK;
    }
    if (ctx) {
      let i = 0;
      while (i < lock.waiters.length && lock.waiters[i].stamp < ctx.stamp) i++;
      lock.waiters.splice(i, 0, ctx);
      // Wound-Wait: a waiter that holds locks wounds a younger holder (__ww_mutex_wound:
      // `ww_ctx->acquired > 0 && __ww_ctx_less(hold_ctx, ww_ctx)`, the waiter's count).
      if (!lock.cls.waitDie && lock.ctx && lock.ctx.stamp > ctx.stamp && ctx.acquired > 0) lock.ctx.wounded = true;
    }
    lock.waiting++;
    return 1;
  });
  let ret = r;
  if (r === 1) {
    ret = yield* lock.step(
      `${label}: wait`,
      () => {
        lock.waiting--;
        if (ctx) lock.waiters.splice(lock.waiters.indexOf(ctx), 1);
        if (lock.ownerThread < 0) {
          take(k, lock, ctx, t);
          return 0;
        }
        ctx!.contending = lock;
        return EDEADLK;
      },
      () => lock.ownerThread < 0 || (ctx !== null && mustDie(ctx, lock)),
    );
  }
  if (ret === 0) {
    if (ctx) nestCount(t, lock.cls, 1);
  } else if (first) k.lockdep.release(t, lock.cls.mutexCls);
  return ret;
}

/** ww_mutex_lock_slow: after -EDEADLK and releasing everything, sleep for the contended lock. */
export function* ww_mutex_lock_slow(k: Kernel, lock: WwMutex, ctx: WwAcquireCtx): Gen<void> {
  if (ctx.acquired > 0) violation(`ww_mutex_lock_slow(${lock.name}) while ${ctx.name} still holds ${ctx.acquired} lock(s)`, ctx);
  if (ctx.contending !== lock) violation(`ww_mutex_lock_slow(${lock.name}) but ${ctx.name} contended on ${ctx.contending?.name ?? "nothing"}`, ctx);
  const r = yield* ww_mutex_lock(k, lock, ctx, `ww_mutex_lock_slow(${lock.name})`);
  if (r !== 0 && r !== EALREADY) violation(`ww_mutex_lock_slow(${lock.name}) failed with ${r}`, ctx);
}

/** ww_mutex_trylock(lock, ctx): true if acquired. Never sleeps, never -EDEADLK. */
export function* ww_mutex_trylock(k: Kernel, lock: WwMutex, ctx: WwAcquireCtx | null = null): Gen<boolean> {
  const t = k.current();
  const ok = yield* lock.step(`ww_mutex_trylock(${lock.name})`, () => {
    if (lock.ownerThread >= 0) return false;
    take(k, lock, ctx, t);
    return true;
  });
  if (ok) {
    if (!ctx || nestCount(t, lock.cls, 0) === 0) k.lockdep.acquire(t, lock.cls.mutexCls, lock.name, 0, true);
    if (ctx) nestCount(t, lock.cls, 1);
  }
  return ok;
}

/** ww_mutex_unlock. */
export function* ww_mutex_unlock(k: Kernel, lock: WwMutex): Gen<void> {
  const t = k.current();
  let ctx: WwAcquireCtx | null = null;
  yield* lock.step(`ww_mutex_unlock(${lock.name})`, () => {
    ctx = lock.ctx;
    if (lock.ownerThread !== t.index) {
      finding("bad-unlock", `${t.name} unlocked ww_mutex ${lock.name} which it does not own`, { lock: lock.name }, { end: true });
      return;
    }
    if (ctx) ctx.acquired--;
    lock.ctx = null;
    lock.ownerThread = -1;
    noteReleased(lock.name);
  });
  const left = ctx ? nestCount(t, lock.cls, -1) : 0;
  if (left === 0) k.lockdep.release(t, lock.cls.mutexCls);
}

/** ww_mutex_is_locked / owner checks without a scheduling point (asserts, final()). */
export function ww_mutex_held_by(lock: WwMutex, t: Task): boolean {
  return lock.heldByThread(t.index);
}
