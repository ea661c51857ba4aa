/** Anchor of a block on its page: stable across builds because block ids are. */
export function blockAnchor(id: string): string {
  return "block-" + id.replace(/[^A-Za-z0-9_-]/g, "_");
}
