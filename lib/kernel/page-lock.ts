// The page lock (PG_locked; folio_lock / lock_page / trylock_page / unlock_page in
// mm/filemap.c): a sleeping bit lock with no owner tracking (I/O completion unlocks pages
// it did not lock) and no lockdep class. One explorer object per frame, separate from
// `memory`, so that a task blocked on a page lock appears in the wait-for graph with the
// task that locked it as the holder.
//
// page-lock-recursion oracle: lock_page(P) by a task that already holds P's lock (S6:
// a notifier called from try_to_unmap, which holds the folio lock, calls set_page_dirty_lock).

import { Obj, noteAcquired, finding } from "../explorer/index.ts";
import type { Op, Tracked, Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { explorerHeld, mightSleep } from "./task.ts";

export class PageLock extends Obj {
  /** Thread index that locked it, -1 if unlocked. (Unlock by another task is legal.) */
  private locker = -1;
  /** Guard state (explorer effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): number {
    return this.locker;
  }
  setGuardState(s: unknown): void {
    this.locker = s as number;
  }
  constructor(
    private readonly k: Kernel,
    readonly pfn: number,
  ) {
    super("page-lock", `page_lock(${pfn})`);
  }

  /** lock_page(). */
  *lock(label = `lock_page(${this.pfn})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    if (t.pageLocks.includes(this.pfn))
      finding("page-lock-recursion", `${t.where()} calls lock_page on frame ${this.pfn}, whose lock its own call chain already holds: it will wait for itself forever`, { pfn: this.pfn });
    mightSleep(t, label);
    yield* this.access<void>("lock", "w", {
      label,
      enabled: () => this.locker === -1,
      run: () => {
        this.locker = t.index;
        t.pageLocks.push(this.pfn);
        noteAcquired(this.name);
      },
    });
  }

  /** trylock_page(). */
  *trylock(label = `trylock_page(${this.pfn})`): Generator<Yieldable, boolean, unknown> {
    const t = this.k.current();
    return yield* this.access("trylock", "w", {
      label,
      run: () => {
        if (this.locker !== -1) return false;
        this.locker = t.index;
        t.pageLocks.push(this.pfn);
        noteAcquired(this.name);
        return true;
      },
    });
  }

  /**
   * One step on `mem` that also reads (mode "r") or changes ("w") this lock: code the kernel runs
   * under the PTE lock with the page lock taken by trylock and released again before the PTE lock
   * is dropped (do_wp_page), or released there (`release()`, mode "w"). `run` may touch only what
   * `mem`'s field recorder covers, and this lock (a split step with Op.also, field footprints:
   * lib/kernel/README.md), so the step depends on memory steps by the fields it read.
   */
  *underPtl<T>(label: string, mem: Tracked, mode: "r" | "w", run: () => T): Generator<Yieldable, T, unknown> {
    const op: Op = { obj: mem, kind: "write", mode: "w", label, split: true, also: [{ obj: this, mode }], enabled: undefined, run };
    return (yield op) as T;
  }

  /** unlock_page(): any task may unlock. */
  *unlock(label = `unlock_page(${this.pfn})`): Generator<Yieldable, void, unknown> {
    yield* this.access<void>("unlock", "w", { label, run: () => this.release() });
  }

  /** unlock_page's effect, inside a step that has this lock in its footprint as a write. */
  release(): void {
    if (this.locker === -1) {
      finding("bad-unlock", `unlock_page on frame ${this.pfn}, which is not locked`, { pfn: this.pfn }, { end: true });
      return;
    }
    const owner = this.k.tasks.byIndexOrNull(this.locker);
    if (owner) owner.pageLocks.splice(owner.pageLocks.lastIndexOf(this.pfn), 1);
    const h = explorerHeld(this.locker);
    const j = h.lastIndexOf(this.name);
    if (j >= 0) h.splice(j, 1);
    this.locker = -1;
  }

  isLocked(): boolean {
    return this.locker !== -1;
  }
  override holders(): readonly number[] {
    return this.locker === -1 ? [] : [this.locker];
  }
}
