// build/src/sandbox/spec-freeze.ts: the sandbox freezes Object.prototype and the typed arrays'
// prototypes by the specification's steps instead of V8's Object.freeze (which makes every
// typed-array store slow once they are frozen). The result must be the same frozen object, and
// the worker must install it before SES loads, or lockdown() would use V8's.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { makeFreeze, specFreeze, specFrozen } from "../../build/src/sandbox/spec-freeze.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Objects of several shapes: data and accessor properties, symbol keys, elements, a function. */
function shapes(): object[] {
  const sym = Symbol("s");
  const withAccessor = { a: 1, get b() { return 2; }, set b(_v: number) {}, [sym]: 3 };
  const withElements = Object.assign(Object.create(null) as object, { 0: "x", 1: "y", name: "n" });
  const fn = function f() {};
  const nonWritable = Object.defineProperty({}, "k", { value: 1, writable: false, configurable: true, enumerable: false });
  return [withAccessor, withElements, fn, nonWritable, [1, 2, 3], {}];
}

/** Every own key (symbols too) with its attributes; accessors by presence (each shapes() call makes new functions). */
const attributes = (o: object) =>
  Reflect.ownKeys(o).map((k) => {
    const d = Object.getOwnPropertyDescriptor(o, k)!;
    return [String(k), d.configurable, d.enumerable, "value" in d ? ["data", d.writable, d.value] : ["accessor", !!d.get, !!d.set]];
  });

describe("specFreeze", () => {
  test("leaves each object exactly as Object.freeze does", () => {
    const a = shapes(), b = shapes();
    for (let i = 0; i < a.length; i++) {
      expect(specFreeze(a[i])).toBe(a[i]);
      Object.freeze(b[i]);
      expect(Object.isFrozen(a[i]), `shape ${i}`).toBe(true);
      expect(Object.isExtensible(a[i]), `shape ${i}`).toBe(false);
      expect(attributes(a[i]), `shape ${i}`).toEqual(attributes(b[i]));
    }
  });

  test("writes to a frozen object throw in strict code, and accessors still run", () => {
    const o = specFreeze({ a: 1, get b() { return 2; } }) as { a: number; b: number; c?: number };
    expect(() => { o.a = 2; }).toThrow(TypeError);
    expect(() => { o.c = 3; }).toThrow(TypeError);
    expect(() => { delete (o as { a?: number }).a; }).toThrow(TypeError);
    expect(o.b).toBe(2);
  });

  test("the replacement freezes the chosen prototypes by those steps and hands every other object to the native freeze", () => {
    const seen: unknown[] = [];
    const freeze = makeFreeze(((o: unknown) => (seen.push(o), o)) as typeof Object.freeze);
    const plain = {};
    expect(freeze(plain)).toBe(plain);
    expect(seen).toEqual([plain]);
    expect(specFrozen(Object.prototype)).toBe(true);
    expect(specFrozen(Int32Array.prototype)).toBe(true);
    expect(specFrozen(Float64Array.prototype)).toBe(true);
    expect(specFrozen(Object.getPrototypeOf(Int32Array.prototype))).toBe(true);
    // Array.prototype keeps V8's freeze: its redefined properties would cost V8's fast paths.
    expect(specFrozen(Array.prototype)).toBe(false);
    expect(specFrozen(plain)).toBe(false);
    expect("prototype" in freeze).toBe(false);
  });

  test("lockdown() uses it: SES never hands a chosen prototype to the native freeze, and every prototype ends frozen", () => {
    // In a process of its own (lockdown would freeze this test runner's realm), on the compiled
    // module (npm test compiles first).
    if (!existsSync(path.join(ROOT, "dist/build/src/sandbox/spec-freeze.js"))) throw new Error("dist/ is missing: run `npm run compile` (npm test does it for you)");
    const script = `
      import { makeFreeze, specFrozen } from "./dist/build/src/sandbox/spec-freeze.js";
      const nativeFreeze = Object.freeze;
      let leaked = 0;
      Object.freeze = makeFreeze((o) => { if (specFrozen(o)) leaked++; return nativeFreeze(o); });
      await import("ses");
      lockdown({ errorTaming: "unsafe", overrideTaming: "min", consoleTaming: "unsafe", localeTaming: "unsafe" });
      const TA = Object.getPrototypeOf(Int8Array.prototype);
      const protos = [Object.prototype, Array.prototype, TA, Int8Array.prototype, Uint8Array.prototype, Uint8ClampedArray.prototype, Int16Array.prototype,
        Uint16Array.prototype, Int32Array.prototype, Uint32Array.prototype, Float32Array.prototype, Float64Array.prototype, BigInt64Array.prototype, BigUint64Array.prototype];
      const c = new Compartment({ globals: {}, __options__: true });
      const f = c.globalThis.Object.freeze;
      console.log(JSON.stringify({ leaked, frozen: protos.every((p) => Object.isFrozen(p)), freezeFrozen: Object.isFrozen(f), hasPrototype: "prototype" in f, same: f === Object.freeze }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ leaked: 0, frozen: true, freezeFrozen: true, hasPrototype: false, same: true });
  });

  test("the worker installs it before SES loads (ES modules evaluate in import order)", () => {
    const src = readFileSync(path.join(ROOT, "build/src/sandbox/worker.ts"), "utf8");
    const imports = [...src.matchAll(/^import\s+(?:[^"']*from\s+)?["']([^"']+)["'];/gm)].map((m) => m[1]);
    expect(imports.indexOf("./install-spec-freeze.ts")).toBe(0);
    expect(imports.indexOf("ses")).toBe(1);
  });
});
