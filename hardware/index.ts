/**
 * The hardware room's factory: picks the driver from configuration.
 * - `simulator`: starts the simulated cabinet for the map's boards and drives it with the Modbus
 *   driver over the simulator's TCP endpoints, so the demo runs the production driver.
 * - `modbus`: the Modbus driver on the configured buses.
 * - `gpio`: the GPIO driver on `map.gpio`.
 */
import type { Logger } from 'pino';
import type { HardwareConfig } from '../src/config/types.js';
import type { Clock } from '../src/domain/clock.js';
import { AppError } from '../src/domain/errors.js';
import type { BusObserver, LockBus } from '../src/services/ports.js';
import { GpioLockBus } from './gpio-bus.js';
import { ModbusLockBus } from './modbus-bus.js';
import { CabinetSimulator } from './simulator.js';

export interface CreateLockBusOptions {
  config: HardwareConfig;
  logger: Logger;
  clock?: Clock;
  /** Told of every door scan, Modbus exchange and lock frame (the metrics). */
  observer?: BusObserver;
}

export interface CreatedLockBus {
  bus: LockBus;
  /**
   * Present with the `simulator` driver. `bus.start()` starts it (before opening the links) and
   * `bus.stop()` stops it, so its endpoints and API are live exactly while the bus runs.
   */
  simulator?: CabinetSimulator;
}

/** Builds the driver; nothing is opened before `bus.start()`. */
export function createLockBus({ config, logger, clock, observer }: CreateLockBusOptions): CreatedLockBus {
  switch (config.driver) {
    case 'simulator': {
      const simulator = new CabinetSimulator({
        map: config.map,
        latchHoldMs: config.simulator.latchHoldMs,
        paceWireTime: config.simulator.paceWireTime,
        clock,
        logger: logger.child({ module: 'simulator' }),
      });
      const bus = new ModbusLockBus({
        config,
        logger: logger.child({ module: 'modbus' }),
        clock,
        observer,
        endpoints: () => simulator.endpoints(),
        beforeStart: () => simulator.start(),
        afterStop: () => simulator.stop(),
      });
      return { bus, simulator };
    }
    case 'modbus':
      return { bus: new ModbusLockBus({ config, logger: logger.child({ module: 'modbus' }), clock, observer }) };
    case 'gpio':
      return { bus: new GpioLockBus({ config, logger: logger.child({ module: 'gpio' }), clock, observer }) };
    default:
      throw new AppError('CONFIG_INVALID', `hardware.driver: unknown driver "${String(config.driver)}"`);
  }
}

export { ModbusLockBus, type ModbusLockBusOptions } from './modbus-bus.js';
export { GpioLockBus, type GpioFactory, type GpioPin, type GpioLockBusOptions } from './gpio-bus.js';
export {
  CabinetSimulator,
  SIM_FAULT_KINDS,
  type CabinetSimulatorOptions,
  type PulseRecord,
  type SetDoorResult,
  type SimBoardState,
  type SimFault,
  type SimFaultKind,
  type SimTrayState,
} from './simulator.js';
export { PulseLimiter } from './pulse-limiter.js';
export { PowerBudget, supplyBudgets, type SupplyBudget } from './power-budget.js';
export { sampleCabinetMap, sampleHardwareConfig } from './sample-map.js';
export {
  wireTimeMs,
  silenceMs,
  transactionWireTimeMs,
  bitsPerChar,
  framingOf,
  framingName,
  DEFAULT_FRAMING,
  type Framing,
} from './rtu-frame.js';
