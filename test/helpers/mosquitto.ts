/**
 * A Mosquitto of the test's own on a loopback port (MQTT 5, shared subscriptions, ACLs: what the
 * in-process broker does not do), stopped at the end of the test. Tests that need it skip where
 * Mosquitto is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';

export const mosquittoBin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find(
  (bin) => spawnSync(bin, ['-h']).error === undefined,
);
/** For `{ skip: noMosquitto }`. */
export const noMosquitto: string | false = mosquittoBin ? false : 'Mosquitto is not installed here (apt-get install mosquitto)';

/** Whether something accepts connections on this loopback port. */
export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

export interface Mosquitto {
  url: string;
  port: number;
  /** The broker's process (a new one after `restart()`). */
  readonly child: ChildProcess;
  /** Kills the broker (SIGKILL unless told otherwise; a signal that ends it) and resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again, on the same port with the same settings; resolves once it listens. */
  restart(): Promise<void>;
}

/**
 * Starts Mosquitto with `settings` (lines of mosquitto.conf) besides its listener; resolves once it
 * listens. `port`: a fixed one instead of a free one picked here.
 */
export async function startMosquitto(
  t: { teardown(fn: () => unknown): void },
  settings: string[] = ['allow_anonymous true'],
  options: { port?: number } = {},
): Promise<Mosquitto> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'persistence false',
      // Started as root (CI), Mosquitto would otherwise switch to its own user, who cannot read files of 0600 here.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...settings,
    ].join('\n') + '\n',
  );
  let child: ChildProcess;
  const launch = async () => {
    const started = spawn(mosquittoBin!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    let stderr = '';
    started.stderr!.on('data', (chunk) => (stderr += chunk));
    for (const deadline = Date.now() + 5_000; !(await listening(port)); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline || started.exitCode !== null) throw new Error(`mosquitto did not start: ${stderr}`);
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const running = child;
    if (running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get child() {
      return child;
    },
    kill,
    async restart() {
      await kill();
      await launch();
    },
  };
}
