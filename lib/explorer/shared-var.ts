// A shared variable: reads commute with reads; everything else conflicts.

import type { Op, Yieldable } from "./effect.ts";
import { Obj } from "./obj.ts";
import { keyOfValue } from "./state-key.ts";

export class SharedVar<T> extends Obj {
  private value: T;
  constructor(name: string, initial: T) {
    super("var", name);
    this.value = initial;
  }
  /** Reads are the commonest step; their op is allocated once per variable. */
  private readOp: Op | undefined;
  *read(label?: string): Generator<Yieldable, T, unknown> {
    // Ops always carry the same seven fields in the same order, so property access stays monomorphic.
    if (label !== undefined) return (yield { obj: this, kind: "read", mode: "r", label, enabled: undefined, run: () => this.value, also: undefined }) as T;
    return (yield (this.readOp ??= { obj: this, kind: "read", mode: "r", label: undefined, enabled: undefined, run: () => this.value, also: undefined })) as T;
  }
  *write(v: T, label?: string): Generator<Yieldable, void, unknown> {
    yield new WriteOp(this, v, label);
  }
  /** @internal used by WriteOp */
  set(v: T): void {
    this.value = v;
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
  /** The stateful strategy's key: the value (primitives, plain data, or objects with stateKey()). */
  /** Symmetry reduction (symmetry.ts): this key names no thread (a value that names one breaks the group's identical code). */
  get threadsInKey(): "none" {
    return "none";
  }
  stateKey(): string {
    return keyOfValue(this.value, () => `the value of SharedVar "${this.name}"`);
  }
  /** Snapshot backtracking (stateful-machine.ts): the value is replaced by writes, never mutated. */
  snapshot(): T {
    return this.value;
  }
  restore(v: unknown): void {
    this.value = v as T;
  }
  /** Uninstrumented read: for final() and assertions only, never a scheduling point. */
  peek(): T {
    return this.value;
  }
}

/** A write op with the value in a field and run() on the prototype: one allocation per write step. */
class WriteOp<T> implements Op {
  readonly obj: SharedVar<T>;
  readonly kind = "write";
  readonly mode = "w" as const;
  readonly label: string | undefined;
  readonly enabled = undefined;
  readonly also = undefined;
  private readonly v: T;
  constructor(obj: SharedVar<T>, v: T, label: string | undefined) {
    this.obj = obj;
    this.label = label;
    this.v = v;
  }
  run(): void {
    this.obj.set(this.v);
  }
}
