// The objects of the explorer's field-footprint tests and how their programs are drawn: N cells
// behind a recorder (effect.ts FieldRecorder) that can be told to miss reads, so a test can show
// it fails, and a flag that split steps on the cells also take (Op.also).
import { Obj } from "../../lib/explorer/index.ts";
import { Prng } from "../../lib/explorer/prng.ts";
import type { FieldRecorder, Touch, Yieldable } from "../../lib/explorer/index.ts";
import { FIELD_MIN, MODE_READ, MODE_UPDATE, MODE_WRITE, mergeModes } from "../../lib/explorer/effect.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export class Rec implements FieldRecorder {
  cur: Map<number, number> | null = null;
  /** FieldRecorder.anyWrite, when the cells are made with it: a number past every cell's field. */
  readonly anyWrite?: number;
  constructor(private readonly missReads: boolean, anyWrite = false) {
    if (anyWrite) this.anyWrite = FIELD_MIN + 1_000;
  }
  /** The running step reached state the recorder does not cover (FieldRecorder.end() gives null). */
  private tripped = false;
  begin(): void {
    this.cur = new Map();
    this.tripped = false;
  }
  end(): number[] | null {
    const out: number[] = [];
    for (const [f, m] of this.cur ?? []) out.push(FIELD_MIN + f, m);
    this.cur = null;
    return this.tripped ? null : out;
  }
  trip(): void {
    if (this.cur !== null) this.tripped = true;
  }
  touch(i: number, m: number): void {
    if (this.cur === null || (this.missReads && m === MODE_READ)) return;
    const prev = this.cur.get(i);
    this.cur.set(i, prev === undefined ? m : mergeModes(prev, m));
  }
}

/** One object, N fields; every access inside a step goes through get/set (recorded). */
export class Cells extends Obj {
  readonly v: number[];
  readonly fields: Rec;
  constructor(n: number, missReads: boolean, anyWrite = false) {
    super("cells", "cells");
    this.v = new Array(n).fill(0);
    this.fields = new Rec(missReads, anyWrite);
  }
  get(i: number): number {
    this.fields.touch(i, MODE_READ);
    return this.v[i];
  }
  set(i: number, x: number): void {
    this.fields.touch(i, MODE_WRITE);
    this.v[i] = x;
  }
  /** v[i] |= bits, recorded as a commutative update (every OR commutes with every other). */
  or(i: number, bits: number): void {
    this.fields.touch(i, MODE_UPDATE);
    this.v[i] |= bits;
  }
  /** Write v[i] as state the recorder does not cover: the step trips. */
  unrecordedSet(i: number, x: number): void {
    this.fields.trip();
    this.v[i] = x;
  }
  /** Read v[i] as state the recorder does not cover: the step trips. */
  unrecorded(i: number): number {
    this.fields.trip();
    return this.v[i];
  }
  *op<T>(label: string, split: boolean, run: () => T, enabled?: () => boolean, mode: "r" | "w" = "w"): Gen<T> {
    return yield* this.access(label, mode, { label, run, enabled, split });
  }
  /** A split step that also takes other objects (Op.also), as a trylock checked under the state it guards. */
  *opAlso<T>(label: string, also: readonly Touch[], run: () => T): Gen<T> {
    return yield* this.access(label, "w", { label, run, split: true, also });
  }
  /** A declared read that is not split and also takes other objects. */
  *readAlso<T>(label: string, also: readonly Touch[], run: () => T): Gen<T> {
    return yield* this.access(label, "r", { label, run, also });
  }
}

/** A lock-like object with steps of its own (a read, a write, a wait for it to be set). */
export class Flag extends Obj {
  v = 0;
  constructor(name = "flag") {
    super("flag", name);
  }
  *read(): Gen<number> {
    return yield* this.access("read", "r", { label: `${this.name}?`, run: () => this.v });
  }
  *write(x: number): Gen<number> {
    return yield* this.access("write", "w", { label: `${this.name}=${x}`, run: () => ((this.v = x), 0) });
  }
  *await(): Gen<number> {
    return yield* this.access("await", "w", { label: `await ${this.name}`, run: () => this.v, enabled: () => this.v !== 0 });
  }
}

/** Two or three threads of one to three steps each, drawn by `stepOf` from `seed`, and their text. */
export function drawThreads<S>(seed: number, stepOf: (rnd: Prng) => [string, S]): { threads: [string, S][][]; text: string } {
  const rnd = new Prng(seed);
  const nt = 2 + rnd.below(2);
  const threads: [string, S][][] = [];
  for (let t = 0; t < nt; t++) threads.push(Array.from({ length: 1 + rnd.below(3) }, () => stepOf(rnd)));
  return { threads, text: threads.map((s, t) => `T${t}[${s.map((x) => x[0]).join(" ")}]`).join(" ") };
}
