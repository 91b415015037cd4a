/**
 * What Node 21 and later have and Node 20 (the cabinet's runtime) does not, where a dependency's
 * start depends on it.
 */

/**
 * `globalThis.navigator` (Node 21+: `{ userAgent: 'Node.js/21', … }`). Without it, `pg` finds out
 * whether it runs in a Cloudflare Worker by building a fetch `Response`, which loads Node's whole
 * fetch implementation: some 50 ms of the daemon's cold start for nothing (ADR 0020). Only the
 * user agent is given, in Node's own form; a runtime that has a navigator keeps its own.
 */
export function provideNavigator(): void {
  if (typeof (globalThis as { navigator?: unknown }).navigator !== 'undefined') return;
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.freeze({ userAgent: `Node.js/${process.versions.node.split('.')[0]}` }),
    configurable: true,
    writable: true,
    enumerable: false,
  });
}
