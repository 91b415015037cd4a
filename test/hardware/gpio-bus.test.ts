import t from 'tap';
import { AppError } from '../../src/domain/errors.js';
import { silentLogger } from '../../src/log.js';
import type { DoorEvent } from '../../src/services/ports.js';
import { GpioLockBus, type GpioFactory, type GpioPin, type PinValue } from '../../hardware/gpio-bus.js';
import { sampleHardwareConfig } from '../../hardware/sample-map.js';
import { sleep } from '../helpers/hardware-harness.js';

/** An in-memory pin: the test sets input levels, the driver writes outputs; writes are logged. */
class FakePin implements GpioPin {
  value: PinValue = 0;
  writes: { value: PinValue; at: number }[] = [];
  exported = true;
  private watchers: ((err: Error | null | undefined, value: PinValue) => void)[] = [];
  constructor(
    readonly pin: number,
    readonly direction: string,
  ) {
    if (direction === 'high') this.value = 1;
  }
  readSync(): PinValue {
    return this.value;
  }
  writeSync(value: PinValue): void {
    this.value = value;
    this.writes.push({ value, at: performance.now() });
  }
  watch(cb: (err: Error | null | undefined, value: PinValue) => void): void {
    this.watchers.push(cb);
  }
  unwatchAll(): void {
    this.watchers = [];
  }
  unexport(): void {
    this.exported = false;
  }
  /** An edge on an input pin. */
  set(value: PinValue): void {
    this.value = value;
    for (const cb of this.watchers) cb(null, value);
  }
}

function fakeFactory(accessible = true): GpioFactory & { pins: Map<number, FakePin> } {
  const pins = new Map<number, FakePin>();
  return {
    accessible,
    pins,
    open(pin, direction) {
      const fake = new FakePin(pin, direction);
      pins.set(pin, fake);
      return fake;
    },
  };
}

const config = sampleHardwareConfig({
  driver: 'gpio',
  pulseMs: 80,
  pulseSpacingMs: 20,
  maxConcurrentPulses: 1,
  debounceMs: 40,
  map: {
    ...sampleHardwareConfig().map,
    gpio: [
      { tray: 1, lockPin: 17, doorPin: 27 },
      { tray: 2, lockPin: 22, doorPin: 23 },
    ],
  },
});

t.test('without GPIO on this machine start() fails with a clear BUS_UNAVAILABLE', async (t) => {
  const bus = new GpioLockBus({ config, logger: silentLogger() });
  const err = await bus.start().catch((e: unknown) => e);
  t.ok(err instanceof AppError);
  t.match(err, { code: 'BUS_UNAVAILABLE', message: /GPIO is not accessible|cannot load onoff/ });
});

t.test('pulses are timed and spaced, door changes are debounced', async (t) => {
  const factory = fakeFactory();
  const bus = new GpioLockBus({ config, logger: silentLogger(), factory });
  const doors: DoorEvent[] = [];
  bus.on('door', (e) => doors.push(e));
  factory.open = ((open) => (pin, direction, edge, options) => {
    const fake = open(pin, direction, edge, options) as FakePin;
    if (pin === 23) fake.value = 1; // tray 2's door is open at start
    return fake;
  })(factory.open.bind(factory));
  await bus.start();
  t.same(
    bus.snapshot().filter((r) => r.tray <= 2),
    [
      { tray: 1, door: 'closed', online: true },
      { tray: 2, door: 'open', online: true },
    ],
  );

  await Promise.all([bus.unlock(1), bus.unlock(2)]);
  await sleep(300);
  const lock1 = factory.pins.get(17)!.writes.filter((w, i) => i > 0); // the first write is the "off" at start
  const lock2 = factory.pins.get(22)!.writes.filter((w, i) => i > 0);
  t.same(
    lock1.map((w) => w.value),
    [1, 0],
  );
  t.same(
    lock2.map((w) => w.value),
    [1, 0],
  );
  t.ok(lock1[1].at - lock1[0].at >= 79, 'tray 1 pulse lasts pulseMs');
  t.ok(lock2[0].at - lock1[0].at >= 99, 'tray 2 waits for pulse + spacing');

  const door1 = factory.pins.get(27)!;
  door1.set(1);
  await sleep(10);
  door1.set(0);
  await sleep(80);
  t.same(doors, [], 'a bounce is not a change');
  door1.set(1);
  await sleep(80);
  t.match(doors, [{ tray: 1, open: true }]);

  await t.rejects(bus.unlock(3), { code: 'TRAY_NOT_FOUND' });
  await bus.stop();
  t.ok(
    [...factory.pins.values()].every((p) => !p.exported),
    'every pin unexported',
  );
  t.equal(factory.pins.get(17)!.value, 0, 'lock output off');
});

t.test('a factory that reports no access is refused', async (t) => {
  const bus = new GpioLockBus({ config, logger: silentLogger(), factory: fakeFactory(false) });
  await t.rejects(bus.start(), { code: 'BUS_UNAVAILABLE' });
});
