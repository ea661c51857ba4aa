// Several claims, one search. Chapters often ask several questions of the same model with the
// same search (chapter 13's conformance matrix asks three invariants of each design); each
// claim() pays for the whole search again. Here one search evaluates every claim's predicate on
// every execution (claim.ts searchAll) and each claim is then decided, reported and, if it fails,
// thrown exactly as claim() alone would: same verdict, coverage, counts, witness and message,
// in the same order, through the same gate and sink.
//
//   checkAll(specs) / claimAll(specs)   every spec over one model object and one search
//   together((g) => { g.claim({…}); g.check({…}); … })
//                                       claims in the order written; those that share a model
//                                       object, search and budget share one search, the others
//                                       search alone; a failing claim fails at its own line

import { admitClaim, check, checkSameSearch, claim, ClaimError, decide, reportClaim, search, searchAll, searchKey, type ClaimResult, type ClaimSpec, type SearchRecord } from "./claim.ts";
import { normaliseSearch } from "./config.ts";
import { getHeartbeat } from "./progress.ts";
import { replayToken } from "./replay-claim.ts";

interface Entry {
  readonly spec: ClaimSpec<any>;
  /** claim() (throws ClaimError on failure) rather than check(). */
  readonly throws: boolean;
  /** Where the claim was written: a failure is reported there, not where the group ran. */
  readonly site?: Error;
}

/** Explore once for all specs (same model object, search and budget); one result per spec, in order. Never throws on a failed claim. */
export function checkAll(specs: readonly ClaimSpec<any>[]): ClaimResult[] {
  checkSameSearch(specs);
  return run(specs.map((spec) => ({ spec, throws: false })));
}

/**
 * Like checkAll(), but throws the ClaimError of the first spec (in order) that fails, as
 * consecutive claim() calls do: the specs after it are not decided or reported.
 */
export function claimAll(specs: readonly ClaimSpec<any>[]): ClaimResult[] {
  checkSameSearch(specs);
  return run(specs.map((spec) => ({ spec, throws: true })));
}

/** Collects claims for together(). */
export class ClaimGroup {
  /** @internal */
  readonly entries: Entry[] = [];
  /** Like claim(): decided when the group runs, and a failure is thrown at this call's line. */
  claim<F>(spec: ClaimSpec<F>): void {
    this.entries.push({ spec, throws: true, site: new Error("claim") });
  }
  /** Like check(): decided when the group runs; never throws on a failed claim. */
  check<F>(spec: ClaimSpec<F>): void {
    this.entries.push({ spec, throws: false, site: new Error("check") });
  }
}

/**
 * Runs body, which adds claims to the group, then decides them in the order added: claims over
 * the same model object with the same search and budget share one search (wherever they stand
 * in the group), every other claim searches alone. Returns one result per claim.
 */
export function together(body: (g: ClaimGroup) => void): ClaimResult[] {
  const g = new ClaimGroup();
  body(g);
  return run(g.entries);
}

// Stateful claims search alone (checkSameSearch says why).
const sameSearch = (a: ClaimSpec<any>, b: ClaimSpec<any>): boolean =>
  a.model === b.model && searchKey(a) === searchKey(b) && normaliseSearch(a.search).strategy !== "stateful";

function run(entries: readonly Entry[]): ClaimResult[] {
  // undefined: not searched yet; null: the shared search threw, so this spec searches alone
  // (and throws, if it does, at its own turn, as it would have alone).
  const recs: (SearchRecord | null | undefined)[] = entries.map(() => undefined);
  /** How many claims the search of each entry served (1: its own). */
  const sharedBy = entries.map(() => 1);
  const admitted = entries.map(() => false);
  const results: ClaimResult[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { spec, throws, site } = entries[i];
    try {
      if (replayToken() !== null) {
        // A replay runs one execution per claim: nothing to share.
        results.push(throws ? claim(spec) : check(spec));
        continue;
      }
      if (!admitted[i]) {
        admitClaim(spec);
        admitted[i] = true;
      }
      // Decided by a search an earlier entry ran (null: that search threw, so this one searches alone).
      const earlier = recs[i] != null;
      if (recs[i] === undefined) {
        const members = [i];
        for (let j = i + 1; j < entries.length; j++) {
          if (recs[j] !== undefined || !sameSearch(spec, entries[j].spec)) continue;
          try {
            if (!admitted[j]) admitClaim(entries[j].spec);
            admitted[j] = true;
            members.push(j);
          } catch {
            // refused by its evidence or the gate: it throws at its own turn
          }
        }
        let rs: SearchRecord[] | null = null;
        try {
          rs = searchAll(members.map((j) => entries[j].spec));
        } catch {
          // A predicate or the model threw: every member searches alone, in order.
        }
        members.forEach((j, k) => {
          recs[j] = rs ? rs[k] : null;
          if (rs) sharedBy[j] = members.length;
        });
      } else {
        // Searched with an earlier claim: its own clock (the book's per-claim time is then its
        // decision and witness alone) and its own line for the watchdog.
        getHeartbeat()?.claim(spec.id ?? spec.title);
      }
      const decided = decide(spec, recs[i] ?? search(spec));
      // The reader is told that a verdict came from a search it shared, and which record's time is the search's.
      const result: ClaimResult = recs[i] != null && sharedBy[i] > 1 ? { ...decided, sharedBy: sharedBy[i], ...(earlier ? { searchedEarlier: true } : {}) } : decided;
      reportClaim(result, spec);
      results.push(result);
      if (throws && !result.pass) throw new ClaimError(result);
    } catch (e) {
      if (site) atSite(e, site);
      throw e;
    }
  }
  return results;
}

/**
 * A failure is located by the first chapter frame on its stack (build/src/sandbox/stack.ts):
 * give it the frames of the line where the claim was written. A model error keeps its cause,
 * whose own stack still names the model's line.
 */
function atSite(e: unknown, site: Error): void {
  if (!(e instanceof Error) || !site.stack) return;
  const frames = site.stack.split("\n").filter((l) => /^\s+at /.test(l));
  try {
    e.stack = `${e.name}: ${e.message}\n${frames.join("\n")}`;
  } catch {
    // a frozen error keeps its stack
  }
}
