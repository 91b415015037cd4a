/**
 * Production runs compiled JavaScript: the server code is compiled once (tsconfig.build.json, as
 * `npm run build` does) into a package laid out like an installation in a temporary directory, and
 * `node dist/src/main.js` is started there as systemd would start it, on the database and broker of
 * TEST_DATABASE_URL/TEST_MQTT_URL or on the embedded defaults:
 * - it answers /health ok, says READY=1 after that, pets the watchdog, and STOPPING=1 at SIGTERM;
 * - HARDWARE=modbus with no adapter says in /health and once in the log which port is missing;
 * - HARDWARE=gpio starts on the shipped GPIO map and says that GPIO is missing here.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { bundleDaemon } from '../../src/bundle.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { notifySocket } from '../helpers/notify-socket.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const realMqtt = process.env.TEST_MQTT_URL || null;

/** The package as deploy/install.sh lays it out: dist/, config/, migrations/, package.json, node_modules. */
async function buildPackage(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-pkg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const started = performance.now();
  try {
    await run(
      path.join(repo, 'node_modules/.bin/tsc'),
      ['-p', 'tsconfig.build.json', '--outDir', path.join(dir, 'dist'), '--incremental', 'false'],
      {
        cwd: repo,
      },
    );
  } catch (err: any) {
    // Type errors are the type check's to report (npm run typecheck); tsc emits all the same.
    if (!existsSync(path.join(dir, 'dist/src/main.js'))) throw err;
    t.comment(`tsc reported type errors, its output is used all the same:\n${String(err.stdout).split('\n').slice(0, 5).join('\n')}`);
  }
  t.comment(`tsc (tsconfig.build.json): ${Math.round(performance.now() - started)} ms`);
  // Then the daemon bundled over tsc's main.js, as npm run build does.
  await bundleDaemon(path.join(dir, 'dist/src'));
  for (const item of ['package.json', 'config', 'migrations']) cpSync(path.join(repo, item), path.join(dir, item), { recursive: true });
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  if (existsSync(path.join(repo, 'dist/ui'))) cpSync(path.join(repo, 'dist/ui'), path.join(dir, 'dist/ui'), { recursive: true });
  return dir;
}

interface Daemon {
  child: ChildProcess;
  log: () => string;
  base: Promise<string>;
  exited: Promise<number | null>;
  /** performance.now() when the process was spawned. */
  spawnedAt: number;
}

async function startDaemon(t: Test, pkg: string, env: Record<string, string>): Promise<Daemon> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atm247-data-'));
  const database = await freshDatabaseUrl();
  // The embedded server of the test helper is a database on another server: the daemon uses it by URL.
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: pkg,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      ...(realMqtt ? { MQTT_URL: realMqtt } : { MQTT_EMBEDDED_PORT: '0' }),
      LOCKER_ID: `atm247-deploy-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await database.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const base = (async () => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const match = /controller ready at (http:\/\/[^"\s]+)/.exec(output);
      if (match) return match[1];
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`the daemon did not become ready:\n${output.slice(-3000)}`);
  })();
  return { child, log: () => output, base, exited, spawnedAt };
}

async function health(base: string): Promise<any> {
  const response = await fetch(`${base}/health`);
  return response.json();
}

const pkg = await buildPackage();

t.test('the bundle: a small entry, the daemon in a chunk V8 reads as one-byte text', async (t) => {
  const main = readFileSync(path.join(pkg, 'dist/src/main.js'), 'utf8');
  t.ok(main.length < 5_000, `main.js only sets up the runtime and imports the daemon (${main.length} characters)`);
  const chunks = readdirSync(path.join(pkg, 'dist/src/chunks')).filter((name) => name.endsWith('.js'));
  const daemon = chunks.find((name) => name.startsWith('daemon-'));
  t.ok(daemon, 'the daemon chunk');
  const text = readFileSync(path.join(pkg, 'dist/src/chunks', daemon!), 'utf8');
  const wide = [...new Set([...text].filter((c) => c.charCodeAt(0) > 0xff))];
  t.same(wide, [], 'no character beyond Latin-1 (else the whole chunk becomes a two-byte string)');
  t.match(text, /\bvalidateConfig\s*=\s*validate\d+\b/, 'the configuration validators come generated (Ajv standalone code)…');
  t.notMatch(text, /\(AJV_OPTIONS\)|\.compile\(VALIDATORS\./, '…not compiled at start');
});

t.test('the compiled daemon serves /health ok, says READY=1, pets the watchdog and STOPPING=1', async (t) => {
  const socket = await notifySocket(t);
  const daemon = await startDaemon(t, pkg, { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '900000', WATCHDOG_PID: '' });
  const base = await daemon.base;
  let body: any;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    body = await health(base);
    if (body.status === 'ok') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const coldStartMs = Math.round(performance.now() - daemon.spawnedAt);
  t.comment(`cold start of node dist/src/main.js to /health ok (a fresh database, migrations included): ${coldStartMs} ms`);
  t.match(body, { status: 'ok', db: 'ok', mqtt: 'ok', bus: 'ok', busErrors: [] });
  t.match(await socket.next(/^READY=1/), /^READY=1\|STATUS=health ok$/);
  await socket.next(/^WATCHDOG=1$/, 5_000);
  await socket.next(/^WATCHDOG=1$/, 5_000);
  const ui = await fetch(`${base}/`);
  t.equal(ui.status, existsSync(path.join(pkg, 'dist/ui')) ? 200 : 503, 'the screens come from the package');
  // The bundled daemon serves what the sources do: the contract, Swagger UI's own files, the
  // metrics, the catalogue, a citizen's code request and a guarded route.
  const openapi = await fetch(`${base}/openapi.json`);
  t.equal(openapi.status, 200, '/openapi.json');
  t.equal(((await openapi.json()) as { openapi: string }).openapi, '3.1.0');
  t.equal((await fetch(`${base}/docs/static/swagger-initializer.js`)).status, 200, "Swagger UI's assets");
  const metrics = await fetch(`${base}/metrics`);
  t.equal(metrics.status, 200, '/metrics from the machine itself');
  t.match(await metrics.text(), /atm247_board_online/);
  const procedures = await fetch(`${base}/api/procedures?deposit=true`);
  t.equal(procedures.status, 200);
  const procedure = ((await procedures.json()) as { code: string }[])[0].code;
  const deposit = await fetch(`${base}/api/deposits`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: '0912345678', procedureCode: procedure }),
  });
  t.equal(deposit.status, 202, `a code is asked for: ${deposit.status}`);
  t.equal((await fetch(`${base}/api/trays`)).status, 401, 'a guarded route without a token');
  daemon.child.kill('SIGTERM');
  t.match(await socket.next(/^STOPPING=1/), /^STOPPING=1\|STATUS=stopping \(SIGTERM\)$/);
  t.equal(await daemon.exited, 0);
});

t.test('HARDWARE=modbus without the adapter names the missing port in /health and once in the log', async (t) => {
  const daemon = await startDaemon(t, pkg, { HARDWARE: 'modbus' });
  const base = await daemon.base;
  const body = await health(base);
  t.equal(body.bus, 'down');
  t.match(body.busErrors, [/^bus rs485-1: serial port \/dev\/atm247-rs485 not found/]);
  // Two more reopen attempts (reopenDelayMs 2 s): still one warning from the link (each board
  // going offline says it once too, as its own cause).
  await new Promise((r) => setTimeout(r, 4_500));
  const warnings = daemon
    .log()
    .split('\n')
    .filter((line) => line.includes('"level":40') && line.includes('"msg":"bus rs485-1: serial port /dev/atm247-rs485 not found'));
  t.equal(warnings.length, 1, 'said once at warn, not at every retry');
  if (warnings.length !== 1) t.comment(warnings.join('\n'));
  t.match((await health(base)).busErrors, [/serial port \/dev\/atm247-rs485 not found/]);
});

t.test(
  'HARDWARE=gpio starts on the shipped GPIO map and says what is missing',
  { skip: existsSync('/sys/class/gpio/export') && 'this machine has sysfs GPIO' },
  async (t) => {
    const daemon = await startDaemon(t, pkg, { HARDWARE: 'gpio' });
    const base = await daemon.base;
    const body = await health(base);
    t.equal(body.bus, 'down');
    t.equal(body.db, 'ok');
    t.match(body.busErrors, [/GPIO.*\/sys\/class\/gpio/]);
    t.match(daemon.log(), /lock bus not started: .*GPIO/);
  },
);

t.test('npm run build compiles with the build configuration and start:prod runs its output', async (t) => {
  const scripts = (await import(path.join(repo, 'package.json'), { with: { type: 'json' } })).default.scripts;
  t.match(scripts.build, /^tsc -p tsconfig\.build\.json && tsx src\/bundle\.ts && npm run build:ui$/);
  t.match(scripts['start:prod'], /^node (--[a-z-]+=\d+ )*dist\/src\/main\.js$/);
  t.ok(existsSync(path.join(pkg, 'dist/src/main.js')) && existsSync(path.join(pkg, 'dist/src/backup-cli.js')));
  t.notOk(existsSync(path.join(pkg, 'dist/test')), 'tests are not compiled into the package');
});
