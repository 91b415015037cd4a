/**
 * The fault campaign's way out, however it comes (its end, an error, SIGINT or SIGTERM):
 * everything started is stopped in reverse, and on exit the last-resort hooks run (the database
 * thawed, the daemon killed).
 */
import { sleep } from './time.js';

// Everything started is stopped in reverse, on the way out however it comes.
export const stops: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
export const exitHooks: (() => void)[] = [];
let shuttingDown: Promise<void> | null = null;
export function shutdownAll(): Promise<void> {
  shuttingDown ??= (async () => {
    for (const { name, fn } of stops.reverse()) {
      try {
        await Promise.race([
          fn(),
          sleep(30_000).then(() => {
            throw new Error('took more than 30 s');
          }),
        ]);
      } catch (err) {
        console.error(`stopping ${name} failed: ${(err as Error).message}`);
      }
    }
  })();
  return shuttingDown;
}

let signalled = false;
/** SIGINT or SIGTERM came: the campaign is being stopped. */
export const interrupted = (): boolean => signalled;

/** Runs the exit hooks on exit; on SIGINT or SIGTERM stops everything and exits 130. */
export function handleExit(): void {
  process.on('exit', () => {
    for (const hook of exitHooks) {
      try {
        hook();
      } catch {
        // best effort
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      console.error(`\n${signal}: stopping the campaign (daemon, database, broker)...`);
      const guard = setTimeout(() => process.exit(130), 40_000);
      guard.unref();
      void shutdownAll().finally(() => process.exit(130));
    });
  }
}
