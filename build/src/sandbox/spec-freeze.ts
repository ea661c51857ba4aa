// Object.freeze for the prototypes that typed arrays and plain objects inherit from, as the
// specification writes it, for lockdown() to use (install-spec-freeze.ts puts it in place before
// SES loads).
//
// Why: V8's own Object.freeze gives an object a "frozen elements" kind, and V8 then assumes
// that a receiver with such an object on its prototype chain may have read-only elements: every
// keyed store into it leaves the inline cache for the runtime (Map::
// MayHaveReadOnlyElementsInPrototypeChain). After lockdown() froze Object.prototype and
// %TypedArray%.prototype, a loop of Int32Array stores ran about 55 times slower (Node 20, V8
// 11.3), and the kernel model and the explorer store into typed arrays at every step.
// ECMA-262's SetIntegrityLevel(O, frozen) (§7.3.15) is preventExtensions and then, key by key,
// non-configurable and, for a data property, non-writable: the object ends as frozen (isFrozen
// says so, a write throws in strict code), but V8 keeps its elements kind and stores stay fast.
//
// Only these prototypes: defining a property anew tells V8 it may have changed, and V8 then
// drops the fast paths it keeps for untouched builtins (its "protectors": array iteration and
// species, Map and Set iteration, promise species). Array.prototype, the iterator prototypes
// and Promise.prototype carry those properties, so they keep V8's own freeze, and stores into
// plain arrays stay slower in the sandbox than outside it. %TypedArray%.prototype's
// `constructor` is redefined too, which costs typed arrays' species fast path (`slice`,
// `subarray`, `map`: not on any hot path here).

const { preventExtensions, getOwnPropertyDescriptor, getPrototypeOf, defineProperty, hasOwn } = Object;
const { ownKeys } = Reflect;

const TYPED = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];

// The prototypes frozen the specification's way: Object.prototype, %TypedArray%.prototype and
// each typed array's, taken when this module loads (before SES, before any chapter). Not
// exported: nothing outside this module can add to it.
const chosen: readonly object[] = [
  Object.prototype,
  getPrototypeOf(Int8Array.prototype) as object,
  ...TYPED.map((n) => (globalThis as unknown as Record<string, { prototype: object } | undefined>)[n]?.prototype).filter((p): p is object => p !== undefined),
];

/** Is `o` one of the prototypes frozen by specFreeze? (Identity against a fixed list: no
 *  method of a builtin that a caller could have replaced is looked up.) */
export function specFrozen(o: unknown): boolean {
  for (let i = 0; i < chosen.length; i++) if (chosen[i] === o) return true;
  return false;
}

/** SetIntegrityLevel(o, frozen), step by step. The descriptors it passes have no prototype, and
 *  the ones it reads (which do) are asked with hasOwn, so no lookup goes through Object.prototype
 *  while it is being frozen. */
export function specFreeze<T extends object>(o: T): T {
  preventExtensions(o);
  const keys = ownKeys(o);
  for (let i = 0; i < keys.length; i++) {
    const d = getOwnPropertyDescriptor(o, keys[i]);
    if (d === undefined) continue;
    defineProperty(o, keys[i], hasOwn(d, "value") ? { __proto__: null, configurable: false, writable: false } as PropertyDescriptor : { __proto__: null, configurable: false } as PropertyDescriptor);
  }
  return o;
}

/** Object.freeze that freezes the chosen prototypes with specFreeze and every other object as V8 does. */
export function makeFreeze(nativeFreeze: typeof Object.freeze): typeof Object.freeze {
  // A method: it has no `prototype` for SES to find and remove.
  return {
    freeze<T>(o: T): Readonly<T> {
      return typeof o === "object" && o !== null && specFrozen(o) ? specFreeze(o) : nativeFreeze(o);
    },
  }.freeze;
}
