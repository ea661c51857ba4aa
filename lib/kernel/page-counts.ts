// Per-page event counts: oracle bookkeeping that only counts up (device-oracles.ts: how many
// invalidation callbacks covering a page have returned, how many invalidations of it have begun).
//
// Why counts and not one clock for the whole machine: the device oracles once stamped installs,
// callback returns and invalidation starts with one global epoch. Every such step then wrote the
// same field, so DPOR ordered every callback return against every install and every other return,
// on any page: dependencies the kernel does not have, paid for in executions. A count per page is
// bumped by a commutative update (effect.ts MODE_UPDATE: two bumps leave the same count in either
// order, return nothing and touch the same field), which conflicts only with a read of that page's
// count: an install taking its stamp, or a device access comparing against it.
//
// The comparison the oracles make is unchanged: "a callback for this page returned after the
// mapping was installed" is "the page's return count now exceeds the count the install saw".

import { MODE_READ, MODE_UPDATE } from "../explorer/effect.ts";
import { accessLogOn, noteAccess } from "./access-log.ts";
import type { FieldLog } from "./field-log.ts";

export class PageCounts {
  private readonly counts = new Map<number, number>();
  /**
   * @param name  the race log's name of the counts ("D.returned")
   * @param fl    the kernel's field recorder (null: no field footprints in this execution)
   * @param field the field number of a page key (pageKey), or null where none fits (the step then
   *              falls back to all of memory)
   */
  constructor(private readonly name: string, private readonly fl: FieldLog | null, private readonly field: (key: number) => number | null) {}

  /** One more event on page `key`. Inside a memory step. */
  bump(key: number): void {
    this.note(key, MODE_UPDATE);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** How many events page `key` has had. Inside a memory step. */
  count(key: number): number {
    this.note(key, MODE_READ);
    return this.counts.get(key) ?? 0;
  }

  private note(key: number, mode: number): void {
    if (accessLogOn()) noteAccess(`${this.name}[${key}]`, mode === MODE_READ ? 1 : 2); // the race log (debug) sees an update as a write
    const fl = this.fl;
    if (fl === null || !fl.on) return;
    const n = this.field(key);
    if (n === null) fl.trip();
    else fl.rec(n, mode);
  }
}
