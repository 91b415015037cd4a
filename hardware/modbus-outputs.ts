/**
 * The lock outputs of the boards on a Modbus bus: a pulse per profile (board-timed "flash on" for
 * Waveshare-type boards, a coil switched on then off by the host otherwise), and every output off
 * at start-up, when a board comes back, and at shutdown. A coil the host switched on is never
 * forgotten: switching it off is retried until the board takes it.
 */
import type { Logger } from 'pino';
import type { HardwareConfig } from '../src/config/types.js';
import type { BoardSpec, TraySpec } from '../src/domain/cabinet.js';
import { describeRequest, type ModbusLink, type ModbusRequest } from './modbus-link.js';
import { WAVESHARE_FLASH_ON_BASE } from './rtu-frame.js';

/** What the driver knows of one board (shared with modbus-bus.ts). */
export interface BoardRuntime {
  spec: BoardSpec;
  link: ModbusLink;
  trays: TraySpec[];
  online: boolean;
  failures: number;
  lastError?: string;
  lastSeenAt?: Date;
  /** performance.now() of the last answered poll (undefined before the first). */
  lastReadMs?: number;
  /** performance.now() before which an offline board is not probed again. */
  nextProbeAtMs: number;
  /** performance.now() until which a tray of this board is released (its board is polled hot). */
  releasedUntilMs: number;
  /** Trays of this board whose door reads open now (the board is polled hot while any is). */
  openDoors: number;
  /** A door reading awaits confirmation since this performance.now() (undefined: none). */
  candidateSinceMs?: number;
  /** Scan round in which this board was last polled (full-scan bookkeeping). */
  scanRound: number;
  /** Wire time of a door poll of this board until its answer is in, ms. */
  pollWireMs: number;
  /** The start-up "all outputs off" reached this board (else it is sent when the board answers). */
  outputsCleared: boolean;
}

export class LockOutputs {
  private readonly coilsOn = new Map<string, { board: BoardRuntime; channel: number; timer?: NodeJS.Timeout }>();
  private stopping = false;

  constructor(
    private readonly config: HardwareConfig,
    private readonly log: Logger,
  ) {}

  /** One lock pulse on the tray's channel; `onWrite` is called when its frame goes to the line. */
  async pulse(board: BoardRuntime, tray: TraySpec, onWrite?: () => void): Promise<void> {
    const unit = board.spec.unitId;
    if (board.spec.profile === 'waveshare-flash') {
      const value = Math.max(1, Math.ceil(this.config.pulseMs / 100));
      await board.link.request(
        { fc: 5, unit, address: WAVESHARE_FLASH_ON_BASE + tray.lockChannel, value },
        { priority: 'command', onWrite },
      );
      return;
    }
    const channel = tray.lockChannel;
    const address = (board.spec.outputBase ?? 0) + channel;
    const key = `${board.spec.id}:${channel}`;
    // Register before sending: if the answer is lost the coil may be on all the same.
    this.coilsOn.set(key, { board, channel });
    try {
      await board.link.request({ fc: 5, unit, address, on: true }, { priority: 'command', onWrite });
    } finally {
      const entry = this.coilsOn.get(key);
      if (entry) entry.timer = setTimeout(() => void this.switchCoilOff(board, channel), this.config.pulseMs);
    }
  }

  /** Every output of a board off (FC15); not reachable now: done when the board first answers. */
  async allOff(board: BoardRuntime): Promise<void> {
    if (!board.link.open) return;
    const request: ModbusRequest = {
      fc: 15,
      unit: board.spec.unitId,
      address: board.spec.outputBase ?? 0,
      values: new Array<boolean>(board.spec.outputs).fill(false),
    };
    board.outputsCleared = true;
    try {
      await board.link.request(request, { priority: 'command' });
    } catch (err) {
      board.outputsCleared = false;
      this.log.warn(
        { board: board.spec.id, err: (err as Error).message },
        `could not switch outputs off: ${describeRequest(board.spec.bus, request)}`,
      );
    }
  }

  /** Shutdown: the coils this driver switched on go off, once, without retrying later. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.coilsOn.values()].map(({ board, channel }) => this.switchCoilOff(board, channel)));
  }

  start(): void {
    this.stopping = false;
  }

  /** Switch a host-timed coil off; while running, a failure is retried after `offlineProbeMs`. */
  private async switchCoilOff(board: BoardRuntime, channel: number): Promise<void> {
    const key = `${board.spec.id}:${channel}`;
    const entry = this.coilsOn.get(key);
    if (entry?.timer) clearTimeout(entry.timer);
    const request: ModbusRequest = { fc: 5, unit: board.spec.unitId, address: (board.spec.outputBase ?? 0) + channel, on: false };
    try {
      await board.link.request(request, { priority: 'command' });
      this.coilsOn.delete(key);
    } catch (err) {
      this.log.error({ board: board.spec.id, channel, err: (err as Error).message }, 'could not switch a lock output off');
      if (!this.stopping && entry) {
        entry.timer = setTimeout(() => void this.switchCoilOff(board, channel), this.config.offlineProbeMs);
      }
    }
  }
}
