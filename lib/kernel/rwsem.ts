// struct rw_semaphore (kernel/locking/rwsem.c): sleeping, readers shared, writers exclusive,
// and a QUEUED WRITER BLOCKS NEW READERS, so read -> read recursion across tasks can deadlock
// (driver-designs-2018 §7: reader preference or free read recursion would hide amdgpu's reason
// for its recursion counter). down_read_non_owner / up_read_non_owner are NOT tracked by lockdep
// but are seen by the wait-for graph, and may be released by another task (kernel-semantics §30).
//
// Modes for the explorer: reader acquire/release are "r" (two of them commute and neither
// disables the other); everything a writer does is "w". A blocked reader is enabled again only
// by a writer-side step, which conflicts with it, as DPOR requires.

import { Obj, noteAcquired, noteReleased, finding } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { explorerHeld, mightSleep } from "./task.ts";

export class KRwSem extends Obj {
  // Invariant: writer >= 0 implies readers and nonOwner are empty.
  /** Thread index of the writer, -1 if none. */
  private writer = -1;
  /** Thread indices of tracked readers (a multiset). */
  private readonly readers: number[] = [];
  /** Thread indices that took the read side with down_read_non_owner (any task may release). */
  private readonly nonOwner: number[] = [];
  /** Writers waiting, FIFO. While non-empty, new readers wait (writer preference). */
  private readonly queue: number[] = [];
  /** Guard state (explorer effect.ts Tracked.guardState): the four fields above, flat (one array
   *  per step on the lock: writer, then each list as its length and its entries). */
  guardState(): number[] {
    return [this.writer, this.readers.length, ...this.readers, this.nonOwner.length, ...this.nonOwner, ...this.queue];
  }
  setGuardState(s: unknown): void {
    const a = s as number[];
    this.writer = a[0];
    let i = 1;
    const fill = (list: number[], n: number): void => {
      list.length = 0;
      for (let e = 0; e < n; e++) list.push(a[i++]);
    };
    fill(this.readers, a[i++]);
    fill(this.nonOwner, a[i++]);
    fill(this.queue, a.length - i);
  }
  readonly cls: number;
  /** Names in the explorer's held-lock lists, built once (not per acquisition). */
  private readonly asRead: string;
  private readonly asWrite: string;
  constructor(
    private readonly k: Kernel,
    name: string,
    className = name,
  ) {
    super("rwsem", name);
    this.cls = k.lockdep.classId(className);
    this.asRead = `${name}(read)`;
    this.asWrite = `${name}(write)`;
  }

  private readable(): boolean {
    return this.writer === -1 && this.queue.length === 0;
  }

  /** down_read(). */
  *downRead(label = `down_read(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    mightSleep(t, label);
    this.k.lockdep.acquire(t, this.cls, this.name, 1);
    yield* this.access<void>("down_read", "r", {
      label,
      enabled: () => this.readable(),
      run: () => {
        this.readers.push(t.index);
        noteAcquired(this.asRead);
      },
    });
  }

  /** down_read_trylock(): fails while a writer holds it or waits (RWSEM_READ_FAILED_MASK).
   *  `also`: an extra condition checked in the same atomic step (vma_start_read's seq check). */
  *downReadTrylock(label = `down_read_trylock(${this.name})`, also?: () => boolean): Generator<Yieldable, boolean, unknown> {
    const t = this.k.current();
    return yield* this.access("trylock", "r", {
      label,
      run: () => {
        if (!this.readable() || (also && !also())) return false;
        this.readers.push(t.index);
        this.k.lockdep.acquire(t, this.cls, this.name, 1, true);
        noteAcquired(this.asRead);
        return true;
      },
    });
  }

  /** up_read(). */
  *upRead(label = `up_read(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    yield* this.access<void>("up_read", "r", {
      label,
      run: () => {
        const i = this.readers.indexOf(t.index);
        if (i < 0) {
          finding("bad-unlock", `${t.name} called up_read on ${this.name} without holding its read side`, { lock: this.name }, { end: true });
          return;
        }
        this.readers.splice(i, 1);
        this.k.lockdep.release(t, this.cls);
        noteReleased(this.asRead);
      },
    });
  }

  /** down_read_non_owner(): like down_read, but lockdep does not see it. */
  *downReadNonOwner(label = `down_read_non_owner(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    mightSleep(t, label);
    yield* this.access<void>("down_read", "r", {
      label,
      enabled: () => this.readable(),
      run: () => {
        this.nonOwner.push(t.index);
        noteAcquired(`${this.name}(read,non_owner)`);
      },
    });
  }

  /** up_read_non_owner(): releases one non-owner read hold, whoever took it. */
  *upReadNonOwner(label = `up_read_non_owner(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    yield* this.access<void>("up_read", "r", {
      label,
      run: () => {
        // Prefer the caller's own hold; else the oldest one (the kernel does not know owners).
        let i = this.nonOwner.indexOf(t.index);
        if (i < 0) i = 0;
        if (this.nonOwner.length === 0) {
          finding("bad-unlock", `${t.name} called up_read_non_owner on ${this.name} with no non-owner reader`, { lock: this.name }, { end: true });
          return;
        }
        const [who] = this.nonOwner.splice(i, 1);
        const h = explorerHeld(who);
        const j = h.lastIndexOf(`${this.name}(read,non_owner)`);
        if (j >= 0) h.splice(j, 1);
      },
    });
  }

  /** down_write(). Queues behind current holders; while queued, new readers wait. */
  *downWrite(label = `down_write(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    mightSleep(t, label);
    this.k.lockdep.acquire(t, this.cls, this.name, 0);
    const got = yield* this.access("down_write", "w", {
      label,
      run: () => {
        if (this.writer === -1 && this.readers.length === 0 && this.nonOwner.length === 0 && this.queue.length === 0) {
          this.writer = t.index;
          noteAcquired(this.asWrite);
          return true;
        }
        this.queue.push(t.index);
        return false;
      },
    });
    if (got) return;
    yield* this.access<void>("down_write", "w", {
      label: `${label} (waiting)`,
      enabled: () => this.writer === -1 && this.readers.length === 0 && this.nonOwner.length === 0 && this.queue[0] === t.index,
      run: () => {
        this.queue.shift();
        this.writer = t.index;
        noteAcquired(this.asWrite);
      },
    });
  }

  /** down_write_trylock(). */
  *downWriteTrylock(label = `down_write_trylock(${this.name})`): Generator<Yieldable, boolean, unknown> {
    const t = this.k.current();
    return yield* this.access("trylock", "w", {
      label,
      run: () => {
        if (this.writer !== -1 || this.readers.length || this.nonOwner.length || this.queue.length) return false;
        this.writer = t.index;
        this.k.lockdep.acquire(t, this.cls, this.name, 0, true);
        noteAcquired(this.asWrite);
        return true;
      },
    });
  }

  /** up_write(). */
  *upWrite(label = `up_write(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    yield* this.access<void>("up_write", "w", {
      label,
      run: () => {
        if (this.writer !== t.index) {
          finding("bad-unlock", `${t.name} called up_write on ${this.name} which it does not hold for write`, { lock: this.name }, { end: true });
          return;
        }
        this.writer = -1;
        this.k.lockdep.release(t, this.cls);
        noteReleased(this.asWrite);
      },
    });
  }

  /** downgrade_write(): write -> read, atomically. */
  *downgradeWrite(label = `downgrade_write(${this.name})`): Generator<Yieldable, void, unknown> {
    const t = this.k.current();
    yield* this.access<void>("downgrade", "w", {
      label,
      run: () => {
        if (this.writer !== t.index) {
          finding("bad-unlock", `${t.name} called downgrade_write on ${this.name} which it does not hold for write`, { lock: this.name }, { end: true });
          return;
        }
        this.writer = -1;
        this.readers.push(t.index);
        noteReleased(this.asWrite);
        noteAcquired(this.asRead);
        // lockdep: lock_downgrade keeps the class held, now as a reader.
        const h = t.held;
        for (let i = h.length - 1; i >= 0; i--)
          if (h[i].cls === this.cls) {
            h[i] = { ...h[i], read: 1 };
            break;
          }
      },
    });
  }

  /** One step on this rwsem's state that takes nothing (state owned by its users, e.g. a VMA's
   *  write-locked mark under vm_lock). */
  touch(label: string, run: () => void): Generator<Yieldable, void, unknown> {
    return this.access<void>("write", "w", { label, run });
  }

  /** For final() and assertions: is it held for write / by how many readers. */
  writeLocked(): boolean {
    return this.writer !== -1;
  }
  readCount(): number {
    return this.readers.length + this.nonOwner.length;
  }
  /** Does thread index t hold it (either side)? */
  heldBy(t: number): boolean {
    return this.writer === t || this.readers.includes(t) || this.nonOwner.includes(t);
  }
  override holders(): readonly number[] {
    return this.writer >= 0 ? [this.writer] : [...this.readers, ...this.nonOwner];
  }
}
