/**
 * Structural sharing between two versions of one watched object. A pod's
 * successive versions differ in a few fields (its node, its conditions, its
 * containers' states) and repeat the rest (its spec, labels, volumes), yet each
 * arrives as a new parse of the whole object; `watch` keeps every version of
 * each pod in flight. Pointing the unchanged parts of the newer version at the
 * older one's keeps one copy of them.
 */

/**
 * `next` with every part equal to the same part of `prev` replaced by `prev`'s;
 * `prev` itself when the two are equal throughout. Changes `next` in place:
 * only for a value just parsed that nothing else holds yet, and only when
 * neither is changed afterwards.
 */
export function shareUnchanged(prev: unknown, next: unknown): unknown {
  // equal strings too: the older one is the string kept
  if (prev === next) return prev;
  if (typeof prev !== 'object' || typeof next !== 'object' || prev === null || next === null) return next;
  if (Array.isArray(prev) !== Array.isArray(next)) return next;
  if (Array.isArray(prev)) return shareArray(prev, next as unknown[]);
  return shareRecord(prev as Record<string, unknown>, next as Record<string, unknown>);
}

function shareArray(prev: unknown[], next: unknown[]): unknown[] {
  let same = prev.length === next.length;
  for (let i = 0; i < next.length; i++) {
    const shared = i < prev.length ? shareUnchanged(prev[i], next[i]) : next[i];
    if (shared !== next[i]) next[i] = shared;
    if (shared !== prev[i]) same = false;
  }
  return same ? prev : next;
}

function shareRecord(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  let keys = 0;
  let same = true;
  for (const key in next) {
    if (!Object.prototype.hasOwnProperty.call(next, key)) continue;
    keys += 1;
    // a parsed "__proto__" is an own key, which an assignment would not set: left as it came
    if (key === '__proto__' || !Object.prototype.hasOwnProperty.call(prev, key)) {
      same = false;
      continue;
    }
    const shared = shareUnchanged(prev[key], next[key]);
    if (shared !== next[key]) next[key] = shared;
    if (shared !== prev[key]) same = false;
  }
  return same && keys === Object.keys(prev).length ? prev : next;
}
