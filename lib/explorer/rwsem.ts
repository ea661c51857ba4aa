// Reader/writer semaphore (kernel rw_semaphore / mmap_sem). Reader-side ops use
// mode "r": two down_read/up_read by different threads commute (no writer
// preference is modelled, so a waiting writer does not block new readers — this
// errs towards MORE schedules than the kernel allows, never fewer). Writer-side
// ops are "w" and conflict with everything on the semaphore.

import type { Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";
import { runtime } from "./context.ts";

export class RwSem extends Obj {
  /** Invariant: writer >= 0 implies readers.length === 0. */
  private writer = -1;
  private readers: number[] = [];
  constructor(name: string) {
    super("rwsem", name);
  }
  readLock(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("down_read", "r", {
      label,
      enabled: () => this.writer === -1,
      run: () => {
        const rt = runtime("RwSem.readLock");
        const me = rt.currentThread();
        // Kept sorted: two down_reads commute ("r"), so the state they reach must not depend on their order.
        let i = this.readers.length;
        while (i > 0 && this.readers[i - 1] > me) i--;
        this.readers.splice(i, 0, me);
        rt.held(me).push(`${this.name}(read)`);
      },
    });
  }
  readUnlock(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("up_read", "r", { label, run: () => this.release(`${this.name}(read)`, true) });
  }
  writeLock(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("down_write", "w", {
      label,
      enabled: () => this.writer === -1 && this.readers.length === 0,
      run: () => {
        const rt = runtime("RwSem.writeLock");
        this.writer = rt.currentThread();
        rt.held(this.writer).push(`${this.name}(write)`);
      },
    });
  }
  writeUnlock(label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("up_write", "w", { label, run: () => this.release(`${this.name}(write)`, false) });
  }
  private release(held: string, reader: boolean): void {
    const rt = runtime("RwSem unlock");
    const me = rt.currentThread();
    const i = reader ? this.readers.indexOf(me) : this.writer === me ? 0 : -1;
    if (i < 0) {
      rt.report("bad-unlock", `${rt.threadName(me)} released ${held} which it does not hold`, { lock: this.name }, { end: true });
      return;
    }
    if (reader) this.readers.splice(i, 1);
    else this.writer = -1;
    const h = rt.held(me);
    h.splice(h.lastIndexOf(held), 1);
  }
  /** Writer, then readers by thread index. */
  stateKey(rename?: readonly number[]): string {
    if (!rename) return `${this.writer};${this.readers.join(",")}`;
    // Renamed (symmetry.ts): readers stay sorted by (renamed) index, as the live list is.
    const w = this.writer >= 0 ? rename[this.writer] : this.writer;
    return `${w};${this.readers.map((t) => rename[t]).sort((a, b) => a - b).join(",")}`;
  }
  get threadsInKey(): "renamed" {
    return "renamed";
  }
  /** Guard state (effect.ts Tracked.guardState): what every enabled() of this object reads. */
  guardState(): [number, number[]] {
    return this.snapshot();
  }
  setGuardState(s: unknown): void {
    this.restore(s);
  }
  snapshot(): [number, number[]] {
    return [this.writer, this.readers.slice()];
  }
  restore(s: unknown): void {
    const [w, r] = s as [number, number[]];
    this.writer = w;
    this.readers = r.slice();
  }
  override holders(): readonly number[] {
    return this.writer >= 0 ? [this.writer] : this.readers;
  }
}
