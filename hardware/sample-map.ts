/**
 * The district 6 cabinet in code: one RS-485 bus, six 16-channel Waveshare-type boards, 90 trays.
 * Mirrors config/cabinet.yaml so tests and the bench do not depend on the YAML loader.
 */
import type { BoardSpec, CabinetMap, TraySize, TraySpec } from '../src/domain/cabinet.js';
import type { HardwareConfig } from '../src/config/types.js';

const BOARDS: { id: string; cabinet: string; first: number; last: number }[] = [
  { id: 'a1', cabinet: 'A', first: 1, last: 16 },
  { id: 'a2', cabinet: 'A', first: 17, last: 30 },
  { id: 'b1', cabinet: 'B', first: 31, last: 46 },
  { id: 'b2', cabinet: 'B', first: 47, last: 62 },
  { id: 'b3', cabinet: 'B', first: 63, last: 78 },
  { id: 'b4', cabinet: 'B', first: 79, last: 90 },
];

const SIZES: TraySize[] = ['S', 'S', 'M', 'M', 'M', 'L'];

export function sampleCabinetMap(opts: { busId?: string; baudRate?: number; timeoutMs?: number; retries?: number } = {}): CabinetMap {
  const busId = opts.busId ?? 'rs485-1';
  const boards: BoardSpec[] = BOARDS.map((b, i) => ({
    id: b.id,
    bus: busId,
    unitId: i + 1,
    profile: 'waveshare-flash',
    outputs: 16,
    inputs: 16,
  }));
  const trays: TraySpec[] = [];
  for (const b of BOARDS) {
    for (let number = b.first; number <= b.last; number++) {
      const channel = number - b.first;
      trays.push({
        number,
        cabinet: b.cabinet,
        board: b.id,
        lockChannel: channel,
        doorInput: channel,
        size: SIZES[(number - 1) % SIZES.length],
        role: b.cabinet === 'A' ? 'deposit' : 'result',
      });
    }
  }
  return {
    cabinets: [
      { id: 'A', name: 'Cabinet A', columns: 5 },
      { id: 'B', name: 'Cabinet B', columns: 10 },
    ],
    buses: [
      {
        id: busId,
        path: '/dev/ttyUSB0',
        baudRate: opts.baudRate ?? 19200,
        parity: 'none',
        dataBits: 8,
        stopBits: 1,
        timeoutMs: opts.timeoutMs ?? 100,
        retries: opts.retries ?? 2,
      },
    ],
    boards,
    trays,
  };
}

/** Hardware settings suited to tests: short timeouts and pulses so a suite stays quick. */
export function sampleHardwareConfig(overrides: Partial<HardwareConfig> = {}): HardwareConfig {
  return {
    driver: 'simulator',
    pulseMs: 300,
    maxConcurrentPulses: 1,
    pulseSpacingMs: 50,
    scanIntervalMs: 20,
    debounceMs: 50,
    offlineAfterFailures: 3,
    offlineProbeMs: 200,
    reopenDelayMs: 100,
    simulator: { paceWireTime: false, latchHoldMs: 5000 },
    map: sampleCabinetMap(),
    ...overrides,
  };
}
