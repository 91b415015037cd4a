/**
 * One simulated lock board: its coils, its inputs and how it answers a request PDU.
 * The board knows nothing of trays or doors; the simulator gives it a view of its inputs and is
 * told of every lock pulse (a coil rising edge or a board-timed flash).
 */
import type { BoardSpec } from '../src/domain/cabinet.js';
import {
  EXCEPTION_ILLEGAL_ADDRESS,
  EXCEPTION_ILLEGAL_FUNCTION,
  EXCEPTION_ILLEGAL_VALUE,
  FC_READ_COILS,
  FC_READ_DISCRETE_INPUTS,
  FC_WRITE_MULTIPLE_COILS,
  FC_WRITE_SINGLE_COIL,
  WAVESHARE_FLASH_ON_BASE,
  packBits,
  unpackBits,
} from './rtu-frame.js';

export type PulseKind = 'flash' | 'coil';

export interface SimBoardHooks {
  /** Input states (true = 1) indexed from the board's first input. */
  readInputs(board: SimBoard): boolean[];
  /** A lock output was energised: a coil rising edge, or a board-timed flash of `durationMs`. */
  onPulse(board: SimBoard, channel: number, kind: PulseKind, durationMs?: number): void;
}

class ModbusException extends Error {
  constructor(readonly exceptionCode: number) {
    super(`modbus exception ${exceptionCode}`);
  }
}

export class SimBoard {
  readonly coils: boolean[];
  private readonly flashTimers = new Map<number, NodeJS.Timeout>();

  constructor(
    readonly spec: BoardSpec,
    private readonly hooks: SimBoardHooks,
  ) {
    this.coils = new Array<boolean>(spec.outputs).fill(false);
  }

  get inputBase(): number {
    return this.spec.inputBase ?? 0;
  }

  get outputBase(): number {
    return this.spec.outputBase ?? 0;
  }

  /** Answer PDU (function code first) to a request PDU; exceptions become exception PDUs. */
  answer(pdu: Buffer): Buffer {
    const fc = pdu[0];
    try {
      switch (fc) {
        case FC_READ_COILS:
          return this.readBits(fc, pdu, this.outputBase, this.coils);
        case FC_READ_DISCRETE_INPUTS:
          return this.readBits(fc, pdu, this.inputBase, this.hooks.readInputs(this));
        case FC_WRITE_SINGLE_COIL:
          return this.writeSingle(pdu);
        case FC_WRITE_MULTIPLE_COILS:
          return this.writeMultiple(pdu);
        default:
          throw new ModbusException(EXCEPTION_ILLEGAL_FUNCTION);
      }
    } catch (err) {
      if (err instanceof ModbusException) return Buffer.from([fc | 0x80, err.exceptionCode]);
      throw err;
    }
  }

  /** Power lost and back: every output off, board-timed pulses forgotten. */
  powerCycle(): void {
    for (const timer of this.flashTimers.values()) clearTimeout(timer);
    this.flashTimers.clear();
    this.coils.fill(false);
  }

  /** Set an output without the Modbus path (a relay left on by a previous run). */
  forceCoil(channel: number, on: boolean): void {
    this.coils[channel] = on;
  }

  private readBits(fc: number, pdu: Buffer, base: number, bits: boolean[]): Buffer {
    if (pdu.length < 5) throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    if (count < 1 || count > 2000) throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
    const first = address - base;
    if (first < 0 || first + count > bits.length) throw new ModbusException(EXCEPTION_ILLEGAL_ADDRESS);
    const data = packBits(bits.slice(first, first + count));
    return Buffer.concat([Buffer.from([fc, data.length]), data]);
  }

  private writeSingle(pdu: Buffer): Buffer {
    if (pdu.length < 5) throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
    const address = pdu.readUInt16BE(1);
    const value = pdu.readUInt16BE(3);
    const flashChannel = address - WAVESHARE_FLASH_ON_BASE;
    if (this.spec.profile === 'waveshare-flash' && flashChannel >= 0 && flashChannel < this.coils.length) {
      if (value < 1) throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
      this.flash(flashChannel, value * 100);
      return Buffer.from(pdu.subarray(0, 5));
    }
    const channel = address - this.outputBase;
    if (channel < 0 || channel >= this.coils.length) throw new ModbusException(EXCEPTION_ILLEGAL_ADDRESS);
    if (value !== 0xff00 && value !== 0x0000) throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
    this.setCoil(channel, value === 0xff00);
    return Buffer.from(pdu.subarray(0, 5));
  }

  private writeMultiple(pdu: Buffer): Buffer {
    if (pdu.length < 6) throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    const byteCount = pdu[5];
    if (count < 1 || byteCount !== Math.ceil(count / 8) || pdu.length < 6 + byteCount) {
      throw new ModbusException(EXCEPTION_ILLEGAL_VALUE);
    }
    const first = address - this.outputBase;
    if (first < 0 || first + count > this.coils.length) throw new ModbusException(EXCEPTION_ILLEGAL_ADDRESS);
    unpackBits(pdu.subarray(6, 6 + byteCount), count).forEach((on, i) => this.setCoil(first + i, on));
    return Buffer.from(pdu.subarray(0, 5));
  }

  private setCoil(channel: number, on: boolean): void {
    const timer = this.flashTimers.get(channel);
    if (timer) {
      clearTimeout(timer);
      this.flashTimers.delete(channel);
    }
    const wasOn = this.coils[channel];
    this.coils[channel] = on;
    if (on && !wasOn) this.hooks.onPulse(this, channel, 'coil');
  }

  private flash(channel: number, durationMs: number): void {
    const previous = this.flashTimers.get(channel);
    if (previous) clearTimeout(previous);
    this.coils[channel] = true;
    this.hooks.onPulse(this, channel, 'flash', durationMs);
    const timer = setTimeout(() => {
      this.flashTimers.delete(channel);
      this.coils[channel] = false;
    }, durationMs);
    timer.unref();
    this.flashTimers.set(channel, timer);
  }
}
