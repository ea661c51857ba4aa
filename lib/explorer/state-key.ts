// State keys for the stateful strategy (stateful.ts): an exact string for everything that decides
// what a model does from here on and what a claim's predicate can read.
//
// Exact strings, not hashes: two states merge only if their keys are equal, and equal keys mean
// equal states (given each object's stateKey() is exact), so no collision can merge different
// states. A thread's history is interned (a trie, Histories below): its key is a small
// integer that names one exact sequence of observed values.

import type { Tracked } from "./effect.ts";
import { ExplorerError } from "./errors.ts";
import type { Finding } from "./finding.ts";

/** An object whose whole future behaviour is determined by this key (a string or a number). */
export interface StateKeyed {
  stateKey(): string | number;
}

const hasKey = (v: unknown): v is StateKeyed => typeof (v as StateKeyed | null)?.stateKey === "function";

/**
 * Exact key of a value returned into a generator, or of a model's final() snapshot: primitives,
 * arrays, plain objects, Maps and Sets of such values, and objects with stateKey(). Anything else
 * (a class instance without a key, a function) is refused: its identity could hide state.
 * Arrays and plain objects are keyed by content at the moment they are seen: a step must return a
 * fresh copy, not a live reference to an object's internals.
 */
export function keyOfValue(v: unknown, what: () => string): string {
  switch (typeof v) {
    case "undefined": return "u";
    case "number": return Object.is(v, -0) ? "n-0" : `n${v}`;
    case "string": return JSON.stringify(v);
    case "boolean": return v ? "T" : "F";
    case "bigint": return `b${v}`;
    case "object": {
      if (v === null) return "null";
      if (hasKey(v)) return lp("k", String(v.stateKey()));
      if (Array.isArray(v)) return `[${v.map((x) => keyOfValue(x, what)).join(",")}]`;
      if (v instanceof Map) return `M{${[...v].map(([k, x]) => `${keyOfValue(k, what)}:${keyOfValue(x, what)}`).join(",")}}`;
      if (v instanceof Set) return `S{${[...v].map((x) => keyOfValue(x, what)).join(",")}}`;
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null)
        return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${keyOfValue((v as Record<string, unknown>)[k], what)}`).join(",")}}`;
      throw new ExplorerError(
        `The stateful strategy cannot key ${what()}: an instance of ${proto?.constructor?.name ?? "an unknown class"} without a stateKey() method. ` +
          `Give its class a stateKey() that determines its behaviour, return primitives or plain data instead, or use { strategy: "dpor" }.`,
      );
    }
    default:
      throw new ExplorerError(`The stateful strategy cannot key ${what()}: a ${typeof v}. Return primitives or plain data, or use { strategy: "dpor" }.`);
  }
}

/**
 * A non-negative integer below 2^32 as exactly two UTF-16 code units: fixed width, so a sequence
 * of them needs no separators, and a short key hashes faster than its decimal digits would.
 */
export const code2 = (n: number): string => String.fromCharCode(n & 0xffff, n >>> 16);

/** Length-prefixed, so that concatenated keys stay unambiguous whatever characters they hold. */
export const lp = (tag: string, s: string): string => `${tag}${s.length}:${s}`;

/** Key of one object of the model; refuses an object without stateKey() (never guesses). */
export function objectKey(o: Tracked, model: string): string {
  if (!hasKey(o))
    throw new ExplorerError(
      `The stateful strategy needs a stateKey() on every object of model "${model}", but ${o.type} "${o.name}" (class ${o.constructor.name}) has none. ` +
        `Add stateKey() returning a string or number that determines all of its future behaviour (holder threads included), or use { strategy: "dpor" }.`,
    );
  return lp("", String(o.stateKey()));
}

/** Findings as a multiset (sorted), without step indices: steps that commute may report in either order. */
export function findingsKey(fs: readonly Finding[], model: string): string {
  if (fs.length === 0) return "";
  return fs.map((f) => lp("", JSON.stringify([f.kind, f.thread ?? null, f.message]) + keyOfValue(f.data, () => `the data of a "${f.kind}" finding of model "${model}"`))).sort().join("");
}

/** Interns thread histories: id 0 is the empty history; (id, value key) -> a new id, exactly. */
export class Histories {
  private readonly ids = new Map<string, number>();
  extend(id: number, valueKey: string): number {
    const k = `${id}\u0001${valueKey}`;
    let n = this.ids.get(k);
    if (n === undefined) this.ids.set(k, (n = this.ids.size + 1));
    return n;
  }
}
