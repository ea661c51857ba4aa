// MMU notifiers: the classic hlist subscribers (kernel-semantics §16) in both eras' shapes,
// and mmu_interval_notifier with its sequence protocol (§17). Model of mm/mmu_notifier.c
// (__mmu_notifier_invalidate_range_start, mn_hlist_invalidate_range_start, mn_itree_invalidate,
// mn_itree_inv_start_range, mn_itree_inv_end, mmu_interval_read_begin, __mmu_notifier_register,
// __mmu_notifier_release) and include/linux/mmu_notifier.h (the inline wrappers with the
// lockdep map, mmu_interval_set_seq, mmu_interval_read_retry, mmu_interval_check_retry).
//
// Scheduling points: one step on the subscriptions object to enter (it reads the subscriber
// list and, for the interval tree, bumps active_invalidate_ranges and makes the seq odd), the
// callbacks themselves (driver code, with their own steps), and one step to leave. SRCU read
// sections around the hlist walk are merged into those steps: registration takes mmap_lock for
// write and mm_take_all_locks (in "now" it write-locks every VMA, so per-VMA-lock faults are
// excluded too), which excludes every invalidation caller, so no interleaving inside the walk
// can change the list.
//
// Ranges are vpn intervals [start, end). In the E18 era the callbacks still receive a range
// object, with event "none" and blockable true: the 2018 ABI passed (mm, start, end) and had no
// way to fail; a 2018 design ignores the extra fields, and its return value is ignored.

import { ExplorerError, Obj, finding, locksHeld, step } from "../explorer/index.ts";
import type { Touch } from "../explorer/effect.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { mm_drop_all_locks, mm_take_all_locks, mmap_write_unlock, type Mm } from "./mm.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { NOTIFIER_MAP, FS_RECLAIM } from "./lockdep.ts";
import { mightSleep, nonBlockEnd, nonBlockStart, type Task } from "./task.ts";
import { Srcu } from "./srcu.ts";
import { invalidationBegins, invalidationEnds } from "./oracles.ts";
import { fieldTrip } from "./field-log.ts";
import { planted } from "./planted.ts";
import { GFP_KERNEL, kmalloc } from "./gfp.ts";

/** enum mmu_notifier_event (v5.0+). "none" in eras without it. */
export type MmuNotifierEvent = "none" | "UNMAP" | "CLEAR" | "PROTECTION_VMA" | "PROTECTION_PAGE" | "SOFT_DIRTY" | "RELEASE" | "MIGRATE" | "EXCLUSIVE";

/** -EAGAIN, as returned by a non-blockable start that would have to sleep. */
export const EAGAIN = -11;

/** struct mmu_notifier_range. */
export interface MmuNotifierRange {
  readonly mm: Mm;
  readonly start: number;
  readonly end: number;
  readonly event: MmuNotifierEvent;
  /** MMU_NOTIFIER_RANGE_BLOCKABLE. Always true in eras without the flag (the 2018 ABI). */
  readonly blockable: boolean;
  /** range->owner (v5.9, device-private migration): the initiator may skip its own invalidation. */
  readonly owner: unknown;
}

/** 2018 per-ops flag: the subscriber's callbacks never block (OOM reaper may proceed). */
export const MMU_INVALIDATE_DOES_NOT_BLOCK = 1;

type Gen<T> = Generator<Yieldable, T, unknown>;

/** struct mmu_notifier_ops (classic). Callbacks are generator functions (they may sleep), except
 *  invalidate_range / arch_invalidate_secondary_tlbs, called under the PTL inside one atomic step. */
export interface MmuNotifierOps {
  readonly name: string;
  /** 2018: MMU_INVALIDATE_DOES_NOT_BLOCK. */
  readonly flags?: number;
  release?(sub: MmuNotifier, mm: Mm): Gen<void>;
  /** now: return 0 or EAGAIN (only when !range.blockable). 2018: return value ignored. */
  invalidate_range_start?(sub: MmuNotifier, range: MmuNotifierRange): Gen<number | void>;
  invalidate_range_end?(sub: MmuNotifier, range: MmuNotifierRange): Gen<void>;
  /** Secondary TLB flush for hardware walking the CPU page tables. Plain (atomic) function. */
  invalidate_range?(sub: MmuNotifier, mm: Mm, start: number, end: number): void;
}

export class MmuNotifier {
  mm: Mm | null = null;
  constructor(readonly ops: MmuNotifierOps) {}
}

/** struct mmu_interval_notifier_ops. invalidate returns false only when !blockable and it would sleep. */
export interface MmuIntervalNotifierOps {
  readonly name: string;
  invalidate(sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): Gen<boolean>;
}

/** One call of ops->invalidate: its task, the cur_seq it was passed, and how many times it called
 *  mmu_interval_set_seq. */
interface SetSeqFrame {
  readonly task: Task;
  readonly cur: number;
  calls: number;
}

/**
 * interval_sub->invalidate_seq as an explorer object of its own: mmu_interval_set_seq writes it
 * under the driver's lock, read_retry, check_retry and read_begin read it, insert sets it together
 * with the mm's subscriptions (a multi-object step). Nothing else touches it, so a
 * set_seq no longer orders against a remove, an insert or another sub's read on the same mm
 * (test/kernel/interval-seq.test.ts: DPOR = DFS on generated programs of these calls).
 */
export class IntervalSeq extends Obj {
  constructor(name: string) {
    super("interval-seq", `${name}->invalidate_seq`);
  }
  /** Internal: one step on the sequence only. */
  step<T>(label: string, mode: "r" | "w", run: () => T): Gen<T> {
    return this.access(mode === "r" ? "read" : "write", mode, { label, run });
  }
}

export class MmuIntervalNotifier {
  /** interval_sub->invalidate_seq. Written by mmu_interval_set_seq under the driver's user lock;
   *  read and written only in steps that touch `seq` (IntervalSeq). */
  invalidateSeq = 0;
  /** The explorer object of invalidateSeq and of the set_seq bookkeeping (setSeqLocks). */
  readonly seq: IntervalSeq;
  mm: Mm | null = null;
  /**
   * Oracle bookkeeping (set-seq-skipped): one frame per call of ops->invalidate in flight, counting
   * the set_seq calls of that call. Per call, not per subscription: with a single count sampled
   * before the callback and compared after it, another invalidation's set_seq in between hid a skip
   * (test/kernel/set-seq-concurrent.test.ts). Each frame is read and written only by its own task
   * (set_seq is called from the callback, in the invalidating task), so the frames need no step.
   */
  readonly setSeqFrames: SetSeqFrame[] = [];
  /** Oracle bookkeeping: explorer locks held at the last set_seq (set_seq/read_retry same-lock check). */
  setSeqLocks: string[] | null = null;
  constructor(
    readonly start: number,
    /** One past the last vpn. */
    readonly end: number,
    readonly ops: MmuIntervalNotifierOps,
  ) {
    this.seq = new IntervalSeq(ops.name);
  }
  overlaps(start: number, end: number): boolean {
    return this.start < end && start < this.end;
  }
}

/** struct mmu_notifier_subscriptions: per-mm. One explorer object. */
export class MmuNotifierSubscriptions extends Obj {
  readonly hlist: MmuNotifier[] = [];
  readonly itree: MmuIntervalNotifier[] = [];
  /** Even when idle; odd while an invalidation overlapping some interval sub is in flight. */
  invalidateSeq = 2;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.invalidateSeq;
  }
  setGuardState(s: unknown): void {
    this.invalidateSeq = s as number;
  }
  activeInvalidateRanges = 0;
  /** has_itree: an interval subscription was registered (the first one took mmap_lock for write). */
  hasItree = false;
  /** mm->notifier_subscriptions (mm->mmu_notifier_mm at v4.16) is set: some registration
   *  allocated it. Written and read only under the mm's mmap lock held for write. */
  allocated = false;
  /** deferred_list: subs removed while invalidating; they leave the tree at the last mn_itree_inv_end. */
  readonly deferredRemove: MmuIntervalNotifier[] = [];
  private srcuObj: Srcu | null = null;
  constructor(
    private readonly k: Kernel,
    readonly mm: Mm,
  ) {
    super("mmu-notifiers", `${mm.name}->notifier_subscriptions`);
  }
  /** The notifier SRCU (created on first use: only unregister and release synchronize). */
  get srcu(): Srcu {
    return (this.srcuObj ??= new Srcu(this.k, `mmu_notifier_srcu(${this.mm.name})`));
  }
  /** Internal: one step on the subscriptions (and on `also`, e.g. an interval sub's sequence). */
  step<T>(label: string, mode: "r" | "w" | "u", run: () => T, enabled?: () => boolean, also?: readonly Touch[]): Gen<T> {
    return this.access(mode === "r" ? "read" : mode === "u" ? "update" : "write", mode, { label, run, enabled, also });
  }
  /**
   * wait_event(subscriptions->wq, READ_ONCE(subscriptions->invalidate_seq) != seq), for a `seq`
   * that is this seq or was an interval sub's (never ahead of it: set_seq and insert copy it, and
   * it only grows). So once the condition holds it holds for good, and the wait returns nothing:
   * a latch (explorer effect.ts Op.latch), which commutes with every step but the one that
   * enabled it. Execution checks that no step disables it.
   */
  *waitSeqMoves(seq: number): Gen<void> {
    yield* this.access<void>("wait", "r", { label: "wait_event(invalidate_seq != seq)", enabled: () => this.invalidateSeq !== seq, latch: true });
  }
  /** mn_itree_is_invalidating. */
  invalidating(): boolean {
    return (this.invalidateSeq & 1) === 1;
  }
  hasNotifiers(): boolean {
    return this.hlist.length > 0 || this.itree.length > 0;
  }
}

/** Build a range (mmu_notifier_range_init). */
export function mmu_notifier_range_init(k: Kernel, mm: Mm, start: number, end: number, event: MmuNotifierEvent, owner: unknown = null): MmuNotifierRange {
  return { mm, start, end, event: k.era.notifierEvent ? event : "none", blockable: true, owner };
}

function withBlockable(r: MmuNotifierRange, blockable: boolean): MmuNotifierRange {
  return r.blockable === blockable ? r : { ...r, blockable };
}

/**
 * mmu_notifier_invalidate_range_start (blockable). Callbacks run before the caller changes any
 * PTE in the range; pages are still mapped and referenced.
 */
export function* mmu_notifier_invalidate_range_start(k: Kernel, range: MmuNotifierRange): Gen<void> {
  const t = k.current();
  if (k.era.notifierBlockableArg) mightSleep(t, "mmu_notifier_invalidate_range_start");
  yield* invalidateStart(k, withBlockable(range, true));
}

/**
 * mmu_notifier_invalidate_range_start_nonblock (now): callbacks run inside non_block_start/end and
 * may return -EAGAIN; the caller then must not call end. Returns 0 or EAGAIN.
 */
export function* mmu_notifier_invalidate_range_start_nonblock(k: Kernel, range: MmuNotifierRange): Gen<number> {
  if (!k.era.notifierBlockableArg) throw new Error(`mmu_notifier_invalidate_range_start_nonblock does not exist in era "${k.era.name}" (v4.19+); the 2018 OOM reaper skips mms with blocking subscribers instead.`);
  return yield* invalidateStart(k, withBlockable(range, false));
}

function* invalidateStart(k: Kernel, range: MmuNotifierRange): Gen<number> {
  const __f = enter(k, "mmu_notifier_invalidate_range_start");
  try {
    const t = k.current();
    const subs = range.mm.notifiers;
    if (k.era.notifierLockdepMap) k.lockdep.mapAcquire(t, NOTIFIER_MAP);
    let ret = 0;
    // Oracle bookkeeping only ("an invalidation covering these pages began"): a memory step in
    // mode "r", so it is ordered against the device-side installs (memory "w") that read it.
    yield* k.mem.fieldStep(`invalidate_range_start(${range.mm.name}, ${range.start}..${range.end}${range.event !== "none" ? ", " + range.event : ""}${range.blockable ? "" : ", nonblock"})`, "r", () => invalidationBegins(k, range));
    // mn_itree_inv_start_range, one step. The subs it overlaps are taken in the step: the kernel
    // walks a tree that cannot change while an invalidation is in flight (inserts and removals
    // are deferred to the last mn_itree_inv_end), and a walk over the live list in thread code
    // would depend on inserts that no step of this thread orders against
    // (test/kernel/interval-seq.test.ts, "an invalidation in flight").
    let targets: readonly MmuIntervalNotifier[] = [];
    // has_itree, as the kernel tests it: set once, by the first interval insert, under
    // mm_take_all_locks and mmap_lock for write (which in the kernel exclude every invalidation;
    // the model's do not quite, see range_end), never cleared.
    // Without an interval subscription the step is only the read of the list the loop below walks
    // (under srcu_read_lock), named after the function that walks it in the era: an mm with no
    // interval tree never calls mn_itree_inv_start_range, and a 2018 kernel has none to call.
    const startLabel = subs.hasItree
      ? `mn_itree_inv_start_range(${range.start}..${range.end})`
      : `${k.era.intervalNotifier ? "mn_hlist_invalidate_range_start" : "__mmu_notifier_invalidate_range_start"}(${range.start}..${range.end}): notifier list`;
    const curSeq = yield* subs.step(startLabel, subs.hasItree ? (planted(k, "itree-start-commutes") ? "u" : "w") : "r", () => {
      if (!subs.hasItree) return 0;
      subs.activeInvalidateRanges++;
      targets = subs.itree.filter((s) => s.overlaps(range.start, range.end));
      if (targets.length > 0) subs.invalidateSeq |= 1;
      return targets.length > 0 ? subs.invalidateSeq : 0;
    });
    if (curSeq !== 0) {
      for (const s of targets) {
        if (!range.blockable) nonBlockStart(t);
        const frame: SetSeqFrame = { task: t, cur: curSeq, calls: 0 };
        const ok = yield* callInvalidate(k, s, range, frame);
        if (!range.blockable) nonBlockEnd(t);
        // include/linux/mmu_notifier.h, mmu_interval_set_seq: "This must be called unconditionally
        // from the invalidate callback" (when it returns true): a reader that sampled the sequence
        // before this invalidation must fail its read_retry, whatever the driver thinks it holds.
        if (ok && frame.calls === 0)
          finding("set-seq-skipped", `${s.ops.name}.invalidate returned true without calling mmu_interval_set_seq`, { sub: s.ops.name });
        if (!ok) {
          if (range.blockable) {
            finding("notifier-protocol", `${s.ops.name}.invalidate returned false for a blockable range`, { sub: s.ops.name });
            continue;
          }
          // out_would_block: the caller must not call end, so finish the itree side here.
          yield* itreeInvEnd(k, range);
          ret = EAGAIN;
          break;
        }
      }
    } else if (subs.hasItree) {
      // No overlapping sub: the range still counts as active (mn_itree_inv_start_range).
    }
    if (ret === 0) {
      for (const s of subs.hlist) {
        const start = s.ops.invalidate_range_start;
        if (!start) continue;
        if (!range.blockable) nonBlockStart(t);
        const r = yield* kcall(k, `${s.ops.name}.invalidate_range_start`, () => start.call(s.ops, s, range));
        if (!range.blockable) nonBlockEnd(t);
        if (k.era.notifierBlockableArg && typeof r === "number" && r !== 0) {
          // The WARN is v5.4's ("mm/mmu_notifiers: check if mmu notifier callbacks are allowed to
          // fail"); v4.19–v5.3 only print a line (era.notifierFailWarns).
          if (k.era.notifierFailWarns && (range.blockable || r !== EAGAIN)) finding("notifier-protocol", `${s.ops.name}.invalidate_range_start returned ${r} for a ${range.blockable ? "blockable" : "non-blockable"} range`, { sub: s.ops.name });
          if (s.ops.invalidate_range_end) finding("notifier-protocol", `${s.ops.name} can fail start (-EAGAIN) but implements invalidate_range_end`, { sub: s.ops.name });
          ret = r;
        }
      }
      if (ret !== 0) {
        // Subscribers whose start succeeded expect their end: call them now (mn_hlist_invalidate_range_start,
        // c2655835fd8c, v5.13).
        for (const s of subs.hlist) {
          const end = s.ops.invalidate_range_end;
          if (end) yield* kcall(k, `${s.ops.name}.invalidate_range_end`, () => end.call(s.ops, s, range));
        }
        // __mmu_notifier_invalidate_range_start returns the hlist's -EAGAIN as it is: the interval
        // tree's part (active_invalidate_ranges++, seq odd) is not ended here, and the caller may
        // not call range_end. Only the what-if kernel ends it (era.hlistFailureEndsItree).
        // A blockable range's caller drops the return value and calls range_end, which ends it.
        if (k.era.hlistFailureEndsItree && subs.hasItree && !range.blockable) yield* itreeInvEnd(k, range);
      }
    }
    if (k.era.notifierLockdepMap) k.lockdep.mapRelease(t, NOTIFIER_MAP);
    // A failed start ends the range only for the non-blockable caller, which then must not call
    // range_end. A blockable caller (mmu_notifier_invalidate_range_start) drops the return value
    // after the WARN, changes the PTEs and calls range_end: the range is in flight until then.
    if (ret !== 0 && !range.blockable) yield* k.mem.fieldStep("invalidate_range_start failed", "r", () => invalidationEnds(k, range));
    return ret;
  } finally {
    leave(__f);
  }
}

function* itreeInvEnd(k: Kernel, range: MmuNotifierRange): Gen<void> {
  const subs = range.mm.notifiers;
  // A commutative update (effect.ts "u"): every mn_itree_inv_end step of an mm is this one
  // function of the subscriptions alone, returning nothing, and a function commutes with itself,
  // so two invalidations' ends leave the same state in either order (which of them moves the seq
  // and empties the deferred list is nobody's observation). It still conflicts with every read
  // and write of the subscriptions (inv_start, insert, remove, read_begin's comparison where the
  // task may not sleep); the wait for the seq to move is a latch, ordered after the end that
  // enabled it and in no race (waitSeqMoves).
  yield* subs.step("mn_itree_inv_end", "u", () => {
    subs.activeInvalidateRanges--;
    if (subs.activeInvalidateRanges === 0 && subs.invalidating()) {
      // The deferred removals leave the tree before the seq moves (mn_itree_inv_end).
      for (const s of subs.deferredRemove.splice(0)) subs.itree.splice(subs.itree.indexOf(s), 1);
      subs.invalidateSeq++; // even again: wakes read_begin and remove waiters
    }
  });
}

/** mmu_notifier_invalidate_range_end: after the PTEs changed (pages may already be freed). */
export function* mmu_notifier_invalidate_range_end(k: Kernel, range: MmuNotifierRange): Gen<void> {
  const __f = enter(k, "mmu_notifier_invalidate_range_end");
  try {
    const t = k.current();
    const subs = range.mm.notifiers;
    if (range.blockable && k.era.notifierBlockableArg) mightSleep(t, "mmu_notifier_invalidate_range_end");
    if (k.era.notifierLockdepMap) k.lockdep.mapAcquire(t, NOTIFIER_MAP);
    // has_itree, as in range_start (it cannot change in between). Testing the tree's length here,
    // in thread code, was a read DPOR does not order against an insert or a remove: an insert
    // racing an invalidation on an empty tree left activeInvalidateRanges at -1 (found by review,
    // December 2026; test/kernel/interval-seq.test.ts). Still open, narrower: has_itree itself is
    // read here in thread code, and the first insert sets it in thread code under
    // mm_take_all_locks, whose model takes the VMA locks but not the rmap locks; an invalidation
    // from an rmap walk (reclaim) could see it false at start and true at end, which the kernel's
    // mm_take_all_locks excludes (not yet checked which scenarios can meet it: chapter 02 inserts
    // at run time).
    if (subs.hasItree) yield* itreeInvEnd(k, range);
    for (const s of subs.hlist) {
      // 2018 __mmu_notifier_invalidate_range_end also called ->invalidate_range (only_end false).
      if (!k.era.notifierBlockableArg && s.ops.invalidate_range) {
        const inv = s.ops.invalidate_range;
        yield* range.mm.k.mem.step(`${s.ops.name}.invalidate_range`, "w", () => inv.call(s.ops, s, range.mm, range.start, range.end));
      }
      const end = s.ops.invalidate_range_end;
      if (end) yield* kcall(k, `${s.ops.name}.invalidate_range_end`, () => end.call(s.ops, s, range));
    }
    if (k.era.notifierLockdepMap) k.lockdep.mapRelease(t, NOTIFIER_MAP);
    yield* k.mem.fieldStep(`invalidate_range_end(${range.mm.name}, ${range.start}..${range.end}) done`, "r", () => invalidationEnds(k, range));
  } finally {
    leave(__f);
  }
}

/**
 * The secondary-TLB callback (2018 mmu_notifier_invalidate_range, now
 * mmu_notifier_arch_invalidate_secondary_tlbs): a plain function, called INSIDE the memory step
 * that changes the PTE and flushes the CPU TLB (ptep_clear_flush_notify), i.e. under the PTL.
 */
export function secondaryTlbInvalidate(mm: Mm, start: number, end: number): void {
  // Under field footprints a split step may scan hlist (changed only in steps on the notifiers
  // object, never in a memory step) but not run a driver's callback, which no wrapper sees.
  for (const s of mm.notifiersScan.hlist)
    if (s.ops.invalidate_range) {
      fieldTrip(mm.k.mem.fields);
      s.ops.invalidate_range(s, mm, start, end);
    }
}

// ---- registration ----

/**
 * mmu_notifier_register: takes mmap_lock for write, then __mmu_notifier_register. v4.16's
 * do_mmu_notifier_register(take_mmap_sem = 1) kmallocs the struct before it takes mmap_sem, so
 * in that era this entry point allocates outside the lock.
 */
export function* mmu_notifier_register(k: Kernel, sub: MmuNotifier, mm: Mm): Gen<number> {
  const __f = enter(k, "mmu_notifier_register");
  try {
    const early = !k.era.notifierAllocFirstOnly;
    if (early) yield* allocSubscriptions(k, mm);
    yield* mm.mmapLock.downWrite(`mmap_write_lock(${mm.name})`);
    yield* registerLocked(k, sub, mm, !early);
    yield* mmap_write_unlock(mm);
    return 0;
  } finally {
    leave(__f);
  }
}

/**
 * The subscriptions struct, allocated GFP_KERNEL before mm_take_all_locks ("kmalloc cannot be
 * called under mm_take_all_locks()"): v4.16's do_mmu_notifier_register on every registration
 * (kmalloc(sizeof(struct mmu_notifier_mm))), since v5.4 only for the mm's first. Through
 * __mmu_notifier_register it is under the caller's mmap lock held for write and whatever the
 * driver holds around the call, and may enter direct reclaim there.
 */
function* allocSubscriptions(k: Kernel, mm: Mm): Gen<void> {
  if (k.era.notifierAllocFirstOnly && mm.notifiers.allocated) return;
  yield* kmalloc(k, GFP_KERNEL, k.era.notifierAllocFirstOnly ? "kzalloc(mmu_notifier_subscriptions)" : "kmalloc(mmu_notifier_mm)");
  mm.notifiers.allocated = true;
}

/** __mmu_notifier_register: caller holds mmap_lock for write. */
export function* __mmu_notifier_register(k: Kernel, sub: MmuNotifier, mm: Mm): Gen<void> {
  yield* registerLocked(k, sub, mm, true);
}

function* registerLocked(k: Kernel, sub: MmuNotifier, mm: Mm, allocate: boolean): Gen<void> {
  const t = k.current();
  if (allocate) yield* allocSubscriptions(k, mm);
  if (k.era.notifierRegistrationPriming) {
    // 66204f1d2d1b (v5.4–v5.10): fs_reclaim_acquire(GFP_KERNEL); lock_map_acquire(notifier map).
    k.lockdep.mapAcquire(t, FS_RECLAIM);
    k.lockdep.touch(t, NOTIFIER_MAP);
    k.lockdep.mapRelease(t, FS_RECLAIM);
  }
  // mm_take_all_locks (mm/mmu_notifier.c, every version): since v6.4 it write-locks every VMA
  // until mmap_write_unlock, so a fault under lock_vma_under_rcu cannot reach the new callback
  // while the registration is inside (see mm.ts mm_take_all_locks). Its -EINTR is not modelled.
  yield* mm_take_all_locks(mm);
  yield* mm.notifiers.step(`hlist_add_head_rcu(${sub.ops.name})`, "w", () => {
    sub.mm = mm;
    mm.notifiers.hlist.push(sub);
    mm.count++;
  });
  mm_drop_all_locks(mm);
}

/** mmu_notifier_unregister: ->release if the mm is still alive, unhook, synchronize_srcu. */
export function* mmu_notifier_unregister(k: Kernel, sub: MmuNotifier, mm: Mm): Gen<void> {
  const __f = enter(k, "mmu_notifier_unregister");
  try {
    const alive = yield* mm.notifiers.step("hlist_unhashed?", "r", () => mm.notifiers.hlist.includes(sub));
    if (alive && sub.ops.release) yield* kcall(k, `${sub.ops.name}.release`, () => sub.ops.release!(sub, mm));
    yield* mm.notifiers.step(`hlist_del_init_rcu(${sub.ops.name})`, "w", () => {
      const i = mm.notifiers.hlist.indexOf(sub);
      if (i >= 0) mm.notifiers.hlist.splice(i, 1);
    });
    yield* mm.notifiers.srcu.synchronize();
    sub.mm = null;
    mm.count--;
  } finally {
    leave(__f);
  }
}

/** One call of s's ops->invalidate, with its frame (SetSeqFrame: what set_seq checks and counts) on
 *  s's stack while it runs. */
function* callInvalidate(k: Kernel, s: MmuIntervalNotifier, range: MmuNotifierRange, frame: SetSeqFrame): Gen<boolean> {
  s.setSeqFrames.push(frame);
  try {
    return yield* kcall(k, `${s.ops.name}.invalidate`, () => s.ops.invalidate(s, range, frame.cur));
  } finally {
    s.setSeqFrames.splice(s.setSeqFrames.indexOf(frame), 1);
  }
}

/**
 * __mmu_notifier_release (exit_mmap, before any page is unmapped): interval subs get an
 * invalidate with event RELEASE over the whole mm; classic subs get ->release; all are unhooked;
 * synchronize_srcu.
 */
export function* mmu_notifier_release(k: Kernel, mm: Mm): Gen<void> {
  const __f = enter(k, "mmu_notifier_release");
  try {
    const subs = mm.notifiers;
    if (!subs.hasNotifiers()) return;
    if (subs.hasItree) {
      const range = mmu_notifier_range_init(k, mm, 0, mm.npages, "RELEASE");
      let targets: readonly MmuIntervalNotifier[] = [];
      const curSeq = yield* subs.step("mn_itree_release: inv_start_range", "w", () => {
        subs.activeInvalidateRanges++;
        targets = subs.itree.slice(); // as in invalidateStart: the walk is the tree this step saw
        if (targets.length > 0) subs.invalidateSeq |= 1;
        return subs.invalidateSeq;
      });
      const t = k.current();
      for (const s of targets) yield* callInvalidate(k, s, range, { task: t, cur: curSeq, calls: 0 });
      yield* itreeInvEnd(k, range);
    }
    for (const s of subs.hlist) {
      const rel = s.ops.release;
      if (rel) yield* kcall(k, `${s.ops.name}.release`, () => rel.call(s.ops, s, mm));
    }
    yield* subs.step("mn_hlist_release: unhook all", "w", () => {
      subs.hlist.length = 0;
    });
    yield* subs.srcu.synchronize();
  } finally {
    leave(__f);
  }
}

// ---- mmu_interval_notifier (v5.5+) ----

function requireInterval(k: Kernel, what: string): void {
  if (!k.era.intervalNotifier) throw new Error(`${what} does not exist in era "${k.era.name}" (mmu_interval_notifier is v5.5+); a 2018 design uses a classic notifier or HMM's range->valid.`);
}

/** mmu_interval_notifier_insert (caller holds a mmget, not mmap_lock). Returns 0. */
export function* mmu_interval_notifier_insert(k: Kernel, sub: MmuIntervalNotifier, mm: Mm): Gen<number> {
  requireInterval(k, "mmu_interval_notifier_insert");
  const __f = enter(k, "mmu_interval_notifier_insert");
  try {
    const subs = mm.notifiers;
    // mm/mmu_notifier.c mmu_interval_notifier_insert: the mm's first interval subscription goes
    // through mmu_notifier_register(NULL, mm), which takes mmap_lock for write, so it cannot
    // land in the middle of an munmap or a fault. Later inserts only take the spinlock.
    if (!subs.hasItree) {
      yield* mm.mmapLock.downWrite(`mmap_write_lock(${mm.name}) (first interval subscription)`);
      // __mmu_notifier_register(NULL, mm): the subscriptions struct if the mm has none,
      // mm_take_all_locks, has_itree = true, mm_drop_all_locks.
      yield* allocSubscriptions(k, mm);
      yield* mm_take_all_locks(mm);
      subs.hasItree = true;
      mm_drop_all_locks(mm);
      yield* mmap_write_unlock(mm);
    }
    yield* subs.step(`__mmu_interval_notifier_insert(${sub.ops.name})`, "w", () => {
      sub.mm = mm;
      // __mmu_interval_notifier_insert: with invalidations in flight the new sub takes the odd
      // seq (made odd here if only classic subscribers were being invalidated), so its first
      // read_begin waits for them. Simplification: the kernel defers the tree insert to the last
      // inv_end while the tree is invalidating; we insert at once. An invalidation already in
      // flight does not reach the sub (its walk is what its start step saw), but one that starts
      // while another is still in flight does, which the kernel would not deliver (errs towards
      // more invalidations, never fewer).
      if (subs.activeInvalidateRanges > 0) {
        if (!subs.invalidating()) subs.invalidateSeq |= 1;
        sub.invalidateSeq = subs.invalidateSeq;
      } else {
        sub.invalidateSeq = subs.invalidateSeq - 1;
      }
      subs.itree.push(sub);
      mm.count++;
    }, undefined, [{ obj: sub.seq, mode: "w" }]);
    return 0;
  } finally {
    leave(__f);
  }
}

/** mmu_interval_notifier_remove: may sleep until an invalidation touching the sub ends. */
export function* mmu_interval_notifier_remove(k: Kernel, sub: MmuIntervalNotifier): Gen<void> {
  requireInterval(k, "mmu_interval_notifier_remove");
  const mm = sub.mm;
  if (!mm) return;
  const __f = enter(k, "mmu_interval_notifier_remove");
  try {
    const t = k.current();
    mightSleep(t, "mmu_interval_notifier_remove");
    k.lockdep.touch(t, NOTIFIER_MAP);
    const subs = mm.notifiers;
    const seq = yield* subs.step("mmu_interval_notifier_remove", "w", () => {
      const busy = subs.activeInvalidateRanges > 0 && subs.invalidating();
      if (!busy) {
        subs.itree.splice(subs.itree.indexOf(sub), 1);
        return 0;
      }
      subs.deferredRemove.push(sub);
      return subs.invalidateSeq;
    });
    if (seq !== 0) {
      // On the deferred list: mn_itree_inv_end takes it out of the tree before it moves the seq.
      // The wait changes no notifier state and, the seq only growing, stays satisfied once it is: a
      // latch. The plain fields set after it, in its step (sub.mm, mm.count), are read only by a
      // later call on this sub, which would be a use after remove.
      yield* subs.waitSeqMoves(seq);
    }
    sub.mm = null;
    mm.count--;
  } finally {
    leave(__f);
  }
}

/**
 * mmu_interval_read_begin: returns the seq to pass to read_retry. Sleeps while an invalidation
 * that already called this sub's invalidate is in flight. Annotated as taking the notifier map.
 */
export function* mmu_interval_read_begin(k: Kernel, sub: MmuIntervalNotifier): Gen<number> {
  requireInterval(k, "mmu_interval_read_begin");
  const mm = sub.mm!;
  const __f = enter(k, "mmu_interval_read_begin");
  try {
    const t = k.current();
    const subs = mm.notifiers;
    if (t.atomic > 0 || t.irqsOff > 0 || t.nonBlock > 0) {
      // Where the task may not sleep, whether read_begin would (and so the sleep-in-atomic report)
      // depends on the sample: the kernel's order, comparing under the lock.
      let waits = false;
      const seq = yield* subs.step(`mmu_interval_read_begin(${sub.ops.name})`, "r", () => {
        waits = sub.invalidateSeq === subs.invalidateSeq;
        return sub.invalidateSeq;
      }, undefined, [{ obj: sub.seq, mode: "r" }]);
      k.lockdep.touch(t, NOTIFIER_MAP);
      if (waits) {
        mightSleep(t, "mmu_interval_read_begin (wait_event)");
        yield* subs.waitSeqMoves(seq);
      }
      return seq;
    }
    // Elsewhere the sample needs only the sub's seq, and the wait can be unconditional: the kernel
    // waits only if the sample equals subscriptions->invalidate_seq, and when it does not, the sub's
    // seq is behind (never ahead: set_seq and insert copy that seq, which only grows), so the wait's
    // condition already holds and always will. With no comparison, the sample no longer reads the
    // subscriptions, whose every mn_itree_inv_end it raced although both orders return the same
    // seq; and the wait is a latch (waitSeqMoves). The lock around the kernel's sample orders it
    // against inv_start and inv_end only, which no longer matters to what it returns.
    const seq = yield* sub.seq.step(`mmu_interval_read_begin(${sub.ops.name})`, "r", () => sub.invalidateSeq);
    k.lockdep.touch(t, NOTIFIER_MAP);
    yield* subs.waitSeqMoves(seq);
    return seq;
  } finally {
    leave(__f);
  }
}

/**
 * Two holds of one lock exclude each other unless both are read holds: a rwlock taken for write
 * around set_seq and for read around read_retry (i915 v5.13 to v6.8: i915->mm.notifier_lock) is one
 * user lock; two read holds of mmap_lock are not.
 */
function excludes(a: string, b: string): boolean {
  return lockBase(a) === lockBase(b) && !(a.endsWith("(read)") && b.endsWith("(read)"));
}

/** A held lock's name without its "(read)" / "(write)" suffix. String operations, not a RegExp:
 *  in the sandbox every RegExp takes V8's slow path (lockdown froze RegExp.prototype), and this
 *  runs at every read_retry against every held lock. */
function lockBase(l: string): string {
  return l.endsWith("(read)") ? l.slice(0, -6) : l.endsWith("(write)") ? l.slice(0, -7) : l;
}

/** mmu_interval_read_retry: call under the driver's user lock (the one held around set_seq). */
export function* mmu_interval_read_retry(k: Kernel, sub: MmuIntervalNotifier, seq: number): Gen<boolean> {
  requireInterval(k, "mmu_interval_read_retry");
  // The lock check reads what set_seq recorded inside its step on the sequence, so it runs inside
  // this step too: in thread code before it, it would see whatever the two threads' preceding,
  // unordered steps left (test/kernel/oracles.test.ts, "read_retry outside the set_seq lock").
  return yield* readSeq(k, sub, `mmu_interval_read_retry(${sub.ops.name})`, () => {
    const held = sub.setSeqLocks;
    if (held !== null) {
      const now = locksHeld();
      if (!held.some((l) => now.some((m) => excludes(l, m))))
        finding("notifier-protocol", `mmu_interval_read_retry(${sub.ops.name}) runs without the lock held around mmu_interval_set_seq (${held.join(", ") || "none"})`, { sub: sub.ops.name });
    }
    return sub.invalidateSeq !== seq;
  });
}

/** mmu_interval_check_retry: unlocked early-out hint (false is not reliable). */
export function* mmu_interval_check_retry(k: Kernel, sub: MmuIntervalNotifier, seq: number): Gen<boolean> {
  requireInterval(k, "mmu_interval_check_retry");
  return yield* readSeq(k, sub, `mmu_interval_check_retry(${sub.ops.name})`, () => sub.invalidateSeq !== seq);
}

/** A read of the sub's sequence: one step on `sub.seq` (the planted interval-seq-unordered runs it
 *  in thread code after a step on no object, which DPOR orders against nothing). */
function* readSeq<T>(k: Kernel, sub: MmuIntervalNotifier, label: string, run: () => T): Gen<T> {
  if (!planted(k, "interval-seq-unordered")) return yield* sub.seq.step(label, "r", run);
  yield* step(label);
  return run();
}

/** The innermost call of sub's ops->invalidate in the calling task (a nested one: reclaim from the
 *  callback), whose frame mmu_interval_set_seq counts in; refused when there is none, or when
 *  `curSeq` is ahead of the cur_seq that call was passed. The frames are the calling task's own. */
function setSeqFrame(k: Kernel, sub: MmuIntervalNotifier, curSeq: number): SetSeqFrame {
  const t = k.current();
  let frame: SetSeqFrame | undefined;
  for (let i = sub.setSeqFrames.length - 1; i >= 0 && frame === undefined; i--) if (sub.setSeqFrames[i].task === t) frame = sub.setSeqFrames[i];
  if (frame === undefined)
    throw new ExplorerError(`mmu_interval_set_seq(${sub.ops.name}) called outside its ops->invalidate: the kernel's rule (include/linux/mmu_notifier.h) is to call it from the callback, with the cur_seq the callback was passed, and the model's read_begin relies on it (lib/kernel/README.md). Call it from the callback.`);
  if (curSeq > frame.cur)
    throw new ExplorerError(`mmu_interval_set_seq(${sub.ops.name}, ${curSeq}) is ahead of the cur_seq ${frame.cur} its ops->invalidate was passed: the kernel's rule (include/linux/mmu_notifier.h) is to pass that value, and the model's read_begin relies on a sub's seq never being ahead (lib/kernel/README.md). Pass the callback's cur_seq.`);
  return frame;
}

/** mmu_interval_set_seq: inside ops->invalidate, under the driver's user lock. */
export function* mmu_interval_set_seq(k: Kernel, sub: MmuIntervalNotifier, curSeq: number): Gen<void> {
  requireInterval(k, "mmu_interval_set_seq");
  if ((curSeq & 1) === 0) finding("notifier-protocol", `mmu_interval_set_seq(${sub.ops.name}) with an even seq ${curSeq}`, { sub: sub.ops.name });
  // read_begin's wait is a latch (waitSeqMoves) only because a sub's seq is never ahead of the
  // subscriptions' seq: the header asks for the cur_seq invalidate was passed. A value ahead of it
  // would make the kernel's wait and the model's differ, and DPOR, which never reorders a latch,
  // might not run the order in which Execution would catch it: refused here, in the calling task,
  // in every execution (a value behind, such as an even one, is reported above and is harmless).
  const frame = setSeqFrame(k, sub, curSeq);
  // The oracle records go with the write of the sequence, in its step (read_retry reads them in
  // its step on the same object).
  yield* sub.seq.step(`mmu_interval_set_seq(${sub.ops.name}, ${curSeq})`, "w", () => {
    sub.setSeqLocks = locksHeld();
    frame.calls++;
    sub.invalidateSeq = curSeq;
  });
}

// ---- set-up helpers returning the subscription (aliases of the *_at_setup functions below) ----

/** mmu_notifier_register_at_setup, returning sub (for `const sub = mmu_notifier_attach(new ..., mm)`). */
export function mmu_notifier_attach(sub: MmuNotifier, mm: Mm): MmuNotifier {
  mmu_notifier_register_at_setup(sub, mm);
  return sub;
}

/** mmu_interval_notifier_insert_at_setup, returning sub. */
export function mmu_interval_notifier_attach(sub: MmuIntervalNotifier, mm: Mm): MmuIntervalNotifier {
  mmu_interval_notifier_insert_at_setup(mm.k, sub, mm);
  return sub;
}

// ---- setup-time registration (no scheduling points; call in a model's setup function only) ----

/**
 * The state mmu_notifier_register leaves, built at setup: for scenarios whose subscriber was
 * registered before anything under test ran (amdgpu_gem_userptr_ioctl with REGISTER, i915's
 * userptr ioctl). The registration itself (mmap_lock write, mm_take_all_locks) is not explored.
 */
export function mmu_notifier_register_at_setup(sub: MmuNotifier, mm: Mm): void {
  if (sub.mm) throw new Error(`mmu_notifier_register_at_setup(${sub.ops.name}): already registered on ${sub.mm.name}.`);
  sub.mm = mm;
  mm.notifiers.hlist.push(sub);
  mm.count++;
}

/** The state mmu_interval_notifier_insert leaves when no invalidation runs, built at setup. */
export function mmu_interval_notifier_insert_at_setup(k: Kernel, sub: MmuIntervalNotifier, mm: Mm): void {
  requireInterval(k, "mmu_interval_notifier_insert");
  if (sub.mm) throw new Error(`mmu_interval_notifier_insert_at_setup(${sub.ops.name}): already inserted on ${sub.mm.name}.`);
  sub.mm = mm;
  // Idle subscriptions: the seq is even; a sub's own seq is one less, so read_begin does not wait.
  sub.invalidateSeq = mm.notifiers.invalidateSeq - 1;
  mm.notifiers.itree.push(sub);
  mm.notifiers.hasItree = true;
  mm.count++;
}
