// Shrinkers (kernel-semantics §14). Model of include/linux/shrinker.h and shrink_slab
// (mm/vmscan.c in 2018, mm/shrinker.c now). Shrinkers run from any direct reclaim, GFP_NOFS and
// GFP_NOIO included; the core does not filter by __GFP_FS, each shrinker must look at sc.gfp.
// They run with PF_MEMALLOC set and inside fs_reclaim when the allocation had __GFP_FS.

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** struct shrink_control. */
export interface ShrinkControl {
  /** The allocation's gfp mask (after current_gfp_context). */
  readonly gfp: number;
  nrToScan: number;
}

/** SHRINK_STOP. */
export const SHRINK_STOP = -1;

/** struct shrinker: count_objects then scan_objects; both may be driver generator code. */
export interface Shrinker {
  readonly name: string;
  count_objects(sc: ShrinkControl): Gen<number>;
  scan_objects(sc: ShrinkControl): Gen<number>;
}

/** register_shrinker (2018) / shrinker_alloc + shrinker_register (now). Setup or thread code. */
export function register_shrinker(k: Kernel, s: Shrinker): void {
  k.shrinkers.push(s);
}

/**
 * shrink_slab: call every shrinker. 2018: under down_read_trylock(shrinker_rwsem) (skips all and
 * returns 1 if contended); now: a lockless walk. Returns the number of objects freed.
 */
export function* shrink_slab(k: Kernel, gfp: number): Gen<number> {
  const __f = enter(k, "shrink_slab");
  try {
    if (k.shrinkers.length === 0) return 0;
    const rw = k.shrinkerRwsem;
    // v4.16: a contended rwsem returns 1, not 0: "If we would return 0, our callers would
    // understand that we have nothing else to shrink and give up trying" (mm/vmscan.c).
    if (rw && !(yield* rw.downReadTrylock())) return 1;
    let freed = 0;
    for (const s of k.shrinkers) {
      const sc: ShrinkControl = { gfp, nrToScan: 0 };
      const n = yield* kcall(k, `${s.name}.count_objects`, () => s.count_objects(sc));
      if (n <= 0) continue;
      sc.nrToScan = n;
      const r = yield* kcall(k, `${s.name}.scan_objects`, () => s.scan_objects(sc));
      if (r === SHRINK_STOP) continue;
      freed += r;
    }
    if (rw) yield* rw.upRead();
    return freed;
  } finally {
    leave(__f);
  }
}
