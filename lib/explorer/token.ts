// Replay tokens: "v1." + base64url(LEB128 varints of the decision list).
//
// The decision list is every thread pick and every choose() value, in execution
// order. Trailing decisions that equal the default policy (see replay.ts) are
// dropped, so a token is usually a few characters. Node-free (no Buffer).

import { ExplorerError } from "./errors.ts";

export const TOKEN_VERSION = "v1";
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function encodeToken(decisions: readonly number[]): string {
  const bytes: number[] = [];
  for (let v of decisions) {
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      bytes.push(b);
    } while (v);
  }
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let c = 0; c < chars; c++) out += ALPHABET[(n >> (18 - 6 * c)) & 63];
  }
  return `${TOKEN_VERSION}.${out}`;
}

export function decodeToken(token: string): number[] {
  const dot = token.indexOf(".");
  const version = token.slice(0, dot);
  if (dot < 0 || version !== TOKEN_VERSION)
    throw new ExplorerError(`Replay token "${token}" is not a ${TOKEN_VERSION} token; copy the whole token (it starts with "${TOKEN_VERSION}.") from the claim's failure message.`);
  const body = token.slice(dot + 1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i += 4) {
    const chunk = body.slice(i, i + 4);
    let n = 0;
    for (let c = 0; c < 4; c++) {
      const k = c < chunk.length ? ALPHABET.indexOf(chunk[c]) : 0;
      if (k < 0) throw new ExplorerError(`Replay token "${token}" contains "${chunk[c]}", which is not base64url; copy the token again.`);
      n = (n << 6) | k;
    }
    const count = chunk.length - 1;
    for (let b = 0; b < count; b++) bytes.push((n >> (16 - 8 * b)) & 0xff);
  }
  const out: number[] = [];
  let v = 0,
    shift = 0;
  for (const b of bytes) {
    v |= (b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      out.push(v >>> 0);
      v = 0;
      shift = 0;
    }
  }
  return out;
}
