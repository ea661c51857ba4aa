// A shared variable: reads commute with reads; everything else conflicts.

import type { Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";

export class SharedVar<T> extends Obj {
  private value: T;
  constructor(name: string, initial: T) {
    super("var", name);
    this.value = initial;
  }
  read(label?: string): Generator<Yieldable, T, unknown> {
    return this.access("read", "r", { label, run: () => this.value });
  }
  write(v: T, label?: string): Generator<Yieldable, void, unknown> {
    return this.access<void>("write", "w", { label, run: () => void (this.value = v) });
  }
  /** Atomic read-modify-write (an atomic_t op); returns the OLD value. */
  update(f: (old: T) => T, label?: string): Generator<Yieldable, T, unknown> {
    return this.access("rmw", "w", {
      label,
      run: () => {
        const old = this.value;
        this.value = f(old);
        return old;
      },
    });
  }
  /** Uninstrumented read: for final() and assertions only, never a scheduling point. */
  peek(): T {
    return this.value;
  }
}
