// Field footprints for hardware-visible memory (issue 13 goal 1; lib/explorer/README.md "Field
// footprints"). The explorer sees all of it as ONE object, `memory` (page.ts). With
// search.fields on, a memory step that kernel code vouches touches only recorded state (a
// "split" step, PhysMem.fieldStep) depends on other steps by the fields it read and wrote; every
// other memory step counts as writing all of memory. This recorder, one per booted kernel (no
// module-level state), collects the fields of the running step from the recording wrappers of
// access-log.ts, and can be tripped: a split step that reaches state no wrapper records
// (fieldTrip) falls back to all of memory.
//
// A field is a number computed from its identity alone (space, owner, index, field), never from
// the order fields were first touched, so one number names one field in every execution that
// shares the prefix up to the step; sleep sets compare a sleeper's record made in an earlier
// execution (dpor.ts). Owners are numbers the kernel hands out in a deterministic order (an mm's
// id, a GPU VM's index), fixed for every object that exists when the record is made.

import { FIELD_MIN, MODE_READ, MODE_WRITE } from "../explorer/effect.ts";
import type { FieldRecorder } from "../explorer/effect.ts";
import { currentRuntime } from "../explorer/context.ts";

/** Field spaces (the top of a field number). */
export const SPACE_FRAME = 1, SPACE_GLOBAL = 2, SPACE_PTE = 3, SPACE_MAP = 4, SPACE_VMA = 5, SPACE_PMD = 6, SPACE_IOMMU = 7, SPACE_SG = 8;
const SPACE_NAMES: readonly string[] = Object.freeze(["?", "frame", "global", "pte", "map", "vma", "pmd", "iommu", "sg"]);
/** An index past every real one: "the set of keys" of a recorded map. */
export const INDEX_ALL = 0xfffff;
export const MAX_OWNER = 0xffff, MAX_INDEX = 0xffffe, MAX_FIELD = 63;
/** SPACE_MAP owners: GPU VM n's PTEs 3n, its TLB 3n+1, its userptr VAs 3n+2 (below MAP_OWNER_GPU_END); the device
 *  oracles' per-page maps MAP_OWNER_DEVICE + 0x1000 * map + mm.id (mm.id below 0x1000). */
export const MAP_OWNER_GPU_END = 0x8000, MAP_OWNER_DEVICE = 0x8000;
/** SPACE_IOMMU: owner = the domain's number (iommu.ts), index = IOVA, field: IO PTE, IOTLB entry (their
 *  key sets at INDEX_ALL); index 0: the flush queue, the IOVA allocator, the fault log. */
export const IO_PTE = 0, IO_TLB = 1, IO_FQ = 2, IO_IOVA = 3, IO_FAULTS = 4;
/** SPACE_SG: owner = a hash of the sg table's name (dma-mapping.ts: tables that share it share
 *  fields, which only adds dependencies), index 0, field: DMA addresses, generations, counts, device. */
export const SG_DMA = 0, SG_GENS = 1, SG_COUNTS = 2, SG_DEV = 3;

/** The number of field `f` of element `index` of structure `owner` in `space`. */
export function fieldNo(space: number, owner: number, index: number, f: number): number {
  if (!(owner >= 0 && owner <= MAX_OWNER && index >= 0 && index <= INDEX_ALL && f >= 0 && f <= MAX_FIELD && Number.isInteger(owner) && Number.isInteger(index)))
    throw new Error(`internal: field (${space}, ${owner}, ${index}, ${f}) out of range`);
  return FIELD_MIN + ((space * 0x10000 + owner) * 0x100000 + index) * 64 + f;
}

export class FieldLog implements FieldRecorder {
  private cur: Map<number, number> | null = null;
  private escaped = false;
  /** Names of the fields of each space's structures, for describe(). */
  readonly names = new Map<number, string>();

  /** Tests only (the mutation test of test/kernel/field-foot.test.ts): fields the log pretends
   *  not to see. A model sets it in its setup, so it lives and dies with this execution's kernel. */
  drop: ((field: number) => boolean) | null = null;

  /** A wrapper saw field `field` read (1) or written (2). Outside a recorded step: nothing. */
  rec(field: number, w: number): void {
    const c = this.cur;
    if (c === null) return;
    if (this.drop !== null && this.drop(field)) return;
    if (w > (c.get(field) ?? 0)) c.set(field, w);
  }
  /** The running step reached state no wrapper records: it counts as touching all of memory. */
  trip(): void {
    if (this.cur !== null) this.escaped = true;
  }
  get recording(): boolean {
    return this.cur !== null;
  }
  begin(): void {
    this.cur = new Map();
    this.escaped = false;
  }
  end(): number[] | null {
    const c = this.cur;
    this.cur = null;
    if (c === null || this.escaped) return null;
    const out: number[] = [];
    for (const [f, m] of c) out.push(f, m === 2 ? MODE_WRITE : MODE_READ);
    return out;
  }
  describe(field: number): string {
    let x = (field - FIELD_MIN) / 64;
    const f = (field - FIELD_MIN) % 64;
    x = Math.floor(x);
    const index = x % 0x100000, rest = Math.floor(x / 0x100000), owner = rest % 0x10000, space = Math.floor(rest / 0x10000);
    const name = this.names.get(space * 0x10000 * 64 + owner * 64 + f) ?? this.names.get(space * 64 + f) ?? `f${f}`;
    return `${SPACE_NAMES[space] ?? space}:${owner}:${index === INDEX_ALL ? "*" : index}.${name}`;
  }
}

/** Are field footprints on in the running execution? (then the kernel installs its recorder) */
export function fieldsOn(): boolean {
  return currentRuntime()?.fieldFootprints?.() === true;
}

/** The running step reached state that no wrapper records (IOMMU, page cache, swap, sg tables,
 *  files, callbacks into drivers, ...): if it is a split step, it falls back to all of memory. */
export function fieldTrip(log: FieldLog | null): void {
  if (log !== null) log.trip();
}
