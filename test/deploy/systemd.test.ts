/**
 * The systemd side of the daemon (src/systemd.ts): the watchdog's decision, and notifications that
 * really reach a notify socket through systemd-notify (a Perl datagram receiver stands in for PID 1:
 * it drops the barrier's descriptor as systemd does, so systemd-notify returns at once).
 */
import { existsSync } from 'node:fs';
import t from 'tap';
import { silentLogger } from '../../src/log.js';
import type { TrayReading } from '../../src/services/ports.js';
import { liveness, scanLiveness, SystemdNotifier, SystemdWatchdog } from '../../src/systemd.js';
import { notifySocket } from '../helpers/notify-socket.js';

const noNotify = existsSync('/usr/bin/systemd-notify') || existsSync('/bin/systemd-notify') ? false : 'systemd-notify is not installed';

/** A fake bus: `online` trays and which of them were read lately. */
function bus(readings: TrayReading[], watched: number[]) {
  return { snapshot: () => readings, watching: (tray: number) => watched.includes(tray) };
}
const reading = (tray: number, online: boolean): TrayReading => ({ tray, door: 'closed', online });

t.test('the scan is alive while every answering tray is read, whatever the offline boards', async (t) => {
  t.same(scanLiveness(bus([reading(1, true), reading(2, true), reading(3, false)], [1, 2])), { alive: true });
  const stalled = scanLiveness(bus([reading(1, true), reading(2, true)], [1]));
  t.equal(stalled.alive, false);
  t.match(stalled.reason, /door scan stalled: 1 tray\(s\).*\(2\)/);
  // A missing adapter or GPIO: nothing answers, the driver reopens by itself; a restart would not help.
  t.same(scanLiveness(bus([reading(1, false), reading(2, false)], [])), { alive: true });
});

t.test('the database must answer too', async (t) => {
  const fine = bus([reading(1, true)], [1]);
  t.same(await liveness({ db: async () => true, bus: fine }), { alive: true });
  t.same(await liveness({ db: async () => false, bus: fine }), { alive: false, reason: 'database does not answer' });
  t.equal((await liveness({ db: () => Promise.reject(new Error('pool closed')), bus: fine })).alive, false);
  const both = await liveness({ db: async () => false, bus: bus([reading(1, true)], []) });
  t.match(both.reason, /database does not answer; door scan stalled/);
});

t.test('the pet interval is a third of WatchdogSec, for this process only', async (t) => {
  const logger = silentLogger();
  t.equal(new SystemdNotifier({ logger, env: {} }).watchdogIntervalMs(), undefined, 'not under systemd');
  t.equal(new SystemdNotifier({ logger, env: { NOTIFY_SOCKET: '/x' } }).watchdogIntervalMs(), undefined, 'no watchdog');
  t.equal(new SystemdNotifier({ logger, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '60000000' } }).watchdogIntervalMs(), 20_000);
  t.equal(
    new SystemdNotifier({ logger, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '1' } }).watchdogIntervalMs(42),
    undefined,
  );
  t.equal(
    new SystemdNotifier({ logger, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '42' } }).watchdogIntervalMs(42),
    20_000,
  );
  t.equal(await new SystemdNotifier({ logger, env: {} }).send('READY=1'), false, 'nothing sent outside systemd');
});

t.test('notifications reach the socket, and the watchdog pets only while alive', { skip: noNotify }, async (t) => {
  const socket = await notifySocket(t);
  const notifier = new SystemdNotifier({ logger: silentLogger(), env: { ...process.env, NOTIFY_SOCKET: socket.path } });
  t.equal(await notifier.send('READY=1', 'STATUS=health ok'), true);
  t.equal(await socket.next(/^READY=1/), 'READY=1|STATUS=health ok');

  let dbUp = true;
  const watchdog = new SystemdWatchdog({
    notifier,
    intervalMs: 50,
    logger: silentLogger(),
    probe: { db: async () => dbUp, bus: bus([reading(1, true)], [1]) },
  });
  t.same(await watchdog.tick(), { alive: true });
  await socket.next(/^WATCHDOG=1$/);
  dbUp = false;
  t.equal((await watchdog.tick()).alive, false);
  t.equal(await socket.next(/^(WATCHDOG|STATUS)=/), 'STATUS=watchdog not petted: database does not answer', 'no pet, a status instead');
  const before = socket.messages.length;
  await watchdog.tick();
  t.equal(socket.messages.filter((m, i) => i >= before && m.startsWith('WATCHDOG')).length, 0, 'still no pet');
  dbUp = true;
  watchdog.start();
  t.teardown(() => watchdog.stop());
  await socket.next(/^WATCHDOG=1$/);
  await socket.next(/^WATCHDOG=1$/);
  watchdog.stop();
});

t.test('a helper that fails is reported, not thrown', async (t) => {
  const notifier = new SystemdNotifier({
    logger: silentLogger(),
    env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' },
    command: '/nonexistent/systemd-notify',
  });
  t.equal(await notifier.send('WATCHDOG=1'), false);
});
