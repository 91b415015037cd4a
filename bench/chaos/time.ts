/** Waiting and printing durations, for the fault campaign and its people. */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
