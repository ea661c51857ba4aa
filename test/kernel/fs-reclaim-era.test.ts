// fs_reclaim is held across reclaim only from v4.18 (93781325da6e07af "lockdep: fix fs_reclaim
// annotation"). In v4.16 __perform_reclaim and kswapd set PF_MEMALLOC first, so
// fs_reclaim_acquire bailed: a lock taken in a shrinker under reclaim made no fs_reclaim -> lock
// edge, and lockdep stayed silent unless the driver primed the edge by hand.
import { describe, it } from "vitest";
import { claim, model } from "../../lib/explorer/index.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import { E18, ENOW, type Era } from "../../lib/kernel/era.ts";
import { KMutex } from "../../lib/kernel/mutex.ts";
import { GFP_KERNEL, kmalloc } from "../../lib/kernel/gfp.ts";
import { register_shrinker } from "../../lib/kernel/shrinker.ts";

// One allocation that enters reclaim, whose shrinker takes obj->lock. Afterwards: does this
// execution's lockdep graph hold the edge fs_reclaim -> &obj->lock?
const m = (era: Era) =>
  model("shrinker lock under reclaim", () => {
    const k = boot(era, { reclaim: "always" });
    const l = new KMutex(k, "obj->lock", "&obj->lock");
    register_shrinker(k, { name: "drv_shrinker", *count_objects() { return 1; }, *scan_objects() { yield* l.lock(); yield* l.unlock(); return 1; } });
    return { threads: { T: function* () { yield* kmalloc(k, GFP_KERNEL); } }, final: () => ({ edge: k.lockdep.hasEdge("fs_reclaim", "&obj->lock") }) };
  });

describe("fs_reclaim held across reclaim, per era", () => {
  it("2018: reclaim itself records no fs_reclaim -> obj->lock edge", () => {
    claim({ title: "E18 no edge", model: m(E18), predicate: (e) => e.final.edge, expect: "Never" });
  });
  it("now: reclaim holds fs_reclaim, so the shrinker's lock is recorded under it", () => {
    claim({ title: "ENOW edge", model: m(ENOW), predicate: (e) => e.final.edge, expect: "Always" });
  });
});
