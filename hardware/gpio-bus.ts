/**
 * The GPIO driver of the `LockBus` port: each tray's lock on an output pin (through a relay or
 * MOSFET driver) and its door switch on an input pin, using onoff (Linux sysfs GPIO).
 *
 * The pin-level logic takes a `GpioFactory`, so it runs the same against onoff and against an
 * in-memory pin double in tests.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { HardwareConfig } from '../src/config/types.js';
import type { GpioTraySpec } from '../src/domain/cabinet.js';
import { systemClock, type Clock } from '../src/domain/clock.js';
import { AppError } from '../src/domain/errors.js';
import { performance } from 'node:perf_hooks';
import type { BusHealth, BusObserver, DoorState, LockBus, LockBusEvents, TrayReading } from '../src/services/ports.js';
import { PowerBudget } from './power-budget.js';
import type { PulseLimiter } from './pulse-limiter.js';

export type PinValue = 0 | 1;
export type PinDirection = 'in' | 'out' | 'high' | 'low';
export type PinEdge = 'none' | 'rising' | 'falling' | 'both';

/** The part of onoff's `Gpio` this driver uses. */
export interface GpioPin {
  readSync(): PinValue;
  writeSync(value: PinValue): void;
  watch(callback: (err: Error | null | undefined, value: PinValue) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export interface GpioFactory {
  /** false where sysfs GPIO is absent or not writable. */
  readonly accessible: boolean;
  open(pin: number, direction: PinDirection, edge: PinEdge, options: { debounceTimeout?: number; activeLow?: boolean }): GpioPin;
}

export interface GpioLockBusOptions {
  config: HardwareConfig;
  logger: Logger;
  clock?: Clock;
  /** Defaults to onoff. */
  factory?: GpioFactory;
  /** Told when a lock pin is switched on (`lockFrame`); GPIO has no scans or exchanges to report. */
  observer?: BusObserver;
}

/** onoff filters contact bounce at the edge level with this; the driver's own debounce does the rest. */
const EDGE_DEBOUNCE_MS = 10;

interface GpioTrayRuntime {
  spec: GpioTraySpec;
  lock: GpioPin;
  door: GpioPin;
  state: DoorState;
  settleTimer?: NodeJS.Timeout;
  offTimer?: NodeJS.Timeout;
}

export async function onoffFactory(): Promise<GpioFactory> {
  const { Gpio } = await import('onoff');
  return {
    get accessible() {
      return Gpio.accessible;
    },
    open: (pin, direction, edge, options) => new Gpio(pin, direction, edge, options),
  };
}

export class GpioLockBus extends EventEmitter<LockBusEvents> implements LockBus {
  private readonly config: HardwareConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly limiter: PulseLimiter;
  private readonly trays = new Map<number, GpioTrayRuntime>();
  private running = false;

  constructor(private readonly options: GpioLockBusOptions) {
    super();
    this.config = options.config;
    this.log = options.logger;
    this.clock = options.clock ?? systemClock;
    this.limiter = new PowerBudget(this.config).limiterFor(undefined);
  }

  async start(): Promise<void> {
    if (this.running) return;
    const wiring = this.config.map.gpio ?? [];
    if (wiring.length === 0) throw new AppError('CONFIG_INVALID', 'hardware.map.gpio: the GPIO driver needs the pins of at least one tray');
    let factory: GpioFactory;
    try {
      factory = this.options.factory ?? (await onoffFactory());
    } catch (err) {
      throw new AppError('BUS_UNAVAILABLE', `GPIO: cannot load onoff: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!factory.accessible) {
      throw new AppError(
        'BUS_UNAVAILABLE',
        'GPIO is not accessible on this machine: /sys/class/gpio is missing or not writable by this user ' +
          '(sysfs GPIO disabled in the kernel, or not in the gpio group); see hardware/README.md',
      );
    }
    try {
      for (const spec of wiring) {
        const lockActiveLow = spec.lockActiveLow === true;
        // Open the output at its "off" level so the solenoid does not twitch while exporting.
        const lock = factory.open(spec.lockPin, lockActiveLow ? 'high' : 'low', 'none', { activeLow: lockActiveLow });
        const door = factory.open(spec.doorPin, 'in', 'both', { debounceTimeout: Math.min(EDGE_DEBOUNCE_MS, this.config.debounceMs) });
        const tray: GpioTrayRuntime = { spec, lock, door, state: 'unknown' };
        this.trays.set(spec.tray, tray);
        lock.writeSync(0);
        tray.state = this.doorReading(tray, door.readSync());
        door.watch((err) => {
          if (err) {
            this.log.warn({ tray: spec.tray, err: err.message }, 'door pin watch error');
            return;
          }
          this.onEdge(tray);
        });
      }
    } catch (err) {
      this.release();
      throw new AppError('BUS_UNAVAILABLE', `GPIO: cannot set up the pins: ${(err as Error).message}`, undefined, { cause: err });
    }
    this.running = true;
    this.emit('health', this.health());
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.release();
  }

  async unlock(trayNumber: number): Promise<void> {
    const tray = this.trays.get(trayNumber) ?? this.missing(trayNumber);
    if (!this.running) throw new AppError('BUS_UNAVAILABLE', `unlock tray ${trayNumber}: GPIO is not running`);
    const calledMs = performance.now();
    await this.limiter.run(async () => {
      if (!this.running) throw new AppError('BUS_UNAVAILABLE', `unlock tray ${trayNumber}: GPIO is stopping`);
      tray.lock.writeSync(1);
      this.options.observer?.lockFrame(trayNumber, performance.now() - calledMs);
      if (tray.offTimer) clearTimeout(tray.offTimer);
      tray.offTimer = setTimeout(() => {
        tray.offTimer = undefined;
        tray.lock.writeSync(0);
      }, this.config.pulseMs);
    });
  }

  snapshot(): TrayReading[] {
    const numbers = new Set<number>([...this.config.map.trays.map((t) => t.number), ...this.trays.keys()]);
    return [...numbers]
      .sort((a, b) => a - b)
      .map((number) => {
        const tray = this.trays.get(number);
        return { tray: number, door: tray?.state ?? 'unknown', online: this.running && tray !== undefined };
      });
  }

  /** GPIO edges interrupt the process: a door is watched whenever the driver runs. */
  watching(trayNumber: number): boolean {
    return this.running && this.config.map.trays.some((t) => t.number === trayNumber);
  }

  health(): BusHealth {
    return { ok: this.running, buses: [{ id: 'gpio', open: this.running }], boards: [] };
  }

  /** A change counts once the pin has been quiet for `debounceMs` and still reads differently. */
  private onEdge(tray: GpioTrayRuntime): void {
    if (tray.settleTimer) clearTimeout(tray.settleTimer);
    tray.settleTimer = setTimeout(() => {
      tray.settleTimer = undefined;
      if (!this.running) return;
      const reading = this.doorReading(tray, tray.door.readSync());
      if (reading === tray.state) return;
      tray.state = reading;
      this.emit('door', { tray: tray.spec.tray, open: reading === 'open', at: this.clock.now() });
    }, this.config.debounceMs);
  }

  /** `doorActiveLow` (default): the switch pulls the pin to 0 while the door is closed. */
  private doorReading(tray: GpioTrayRuntime, value: PinValue): DoorState {
    const closedValue: PinValue = tray.spec.doorActiveLow === false ? 1 : 0;
    return value === closedValue ? 'closed' : 'open';
  }

  private release(): void {
    for (const tray of this.trays.values()) {
      if (tray.settleTimer) clearTimeout(tray.settleTimer);
      if (tray.offTimer) clearTimeout(tray.offTimer);
      try {
        tray.lock.writeSync(0);
      } catch (err) {
        this.log.error({ tray: tray.spec.tray, err: (err as Error).message }, 'could not switch a lock output off');
      }
      tray.door.unwatchAll();
      tray.door.unexport();
      tray.lock.unexport();
    }
    this.trays.clear();
  }

  private missing(trayNumber: number): never {
    throw new AppError('TRAY_NOT_FOUND', `tray ${trayNumber} has no GPIO wiring in the cabinet map`);
  }
}
