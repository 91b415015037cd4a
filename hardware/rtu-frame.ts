/**
 * Modbus RTU framing: CRC, frame lengths and wire time.
 *
 * An RTU character is a start bit, 8 data bits, a parity bit if any, and 1 or 2 stop bits: 11 bits
 * for 8E1/8O1/8N2 (the Modbus serial-line standard), 10 for 8N1 (many Waveshare-type boards).
 * Frames are separated by at least 3.5 characters of silence (fixed at 1.75 ms above 19200 baud,
 * as the Modbus serial line specification allows).
 */
import type { BusSpec, SerialParity } from '../src/domain/cabinet.js';
import { crc16Modbus } from './crc16.js';

export const SILENCE_CHARS = 3.5;

/** How characters are framed on a bus's line. */
export interface Framing {
  parity: SerialParity;
  dataBits: 8;
  stopBits: 1 | 2;
}

/** The Modbus serial-line default: even parity, one stop bit. */
export const DEFAULT_FRAMING: Framing = { parity: 'even', dataBits: 8, stopBits: 1 };

/** A bus's framing, the map's fields over the 8E1 default. */
export function framingOf(bus: Pick<BusSpec, 'parity' | 'dataBits' | 'stopBits'>): Framing {
  return {
    parity: bus.parity ?? DEFAULT_FRAMING.parity,
    dataBits: bus.dataBits ?? DEFAULT_FRAMING.dataBits,
    stopBits: bus.stopBits ?? DEFAULT_FRAMING.stopBits,
  };
}

/** Bits one character takes on the wire: start + data + parity + stop. */
export function bitsPerChar(framing: Framing = DEFAULT_FRAMING): number {
  return 1 + framing.dataBits + (framing.parity === 'none' ? 0 : 1) + framing.stopBits;
}

/** `8E1`, `8N1`, `8N2`… */
export function framingName(framing: Framing): string {
  return `${framing.dataBits}${framing.parity[0].toUpperCase()}${framing.stopBits}`;
}

export const FC_READ_COILS = 0x01;
export const FC_READ_DISCRETE_INPUTS = 0x02;
export const FC_WRITE_SINGLE_COIL = 0x05;
export const FC_WRITE_MULTIPLE_COILS = 0x0f;

export const EXCEPTION_ILLEGAL_FUNCTION = 0x01;
export const EXCEPTION_ILLEGAL_ADDRESS = 0x02;
export const EXCEPTION_ILLEGAL_VALUE = 0x03;

/** Waveshare relay boards: FC05 to this base + channel with a value in 100 ms units pulses the relay. */
export const WAVESHARE_FLASH_ON_BASE = 0x0200;

/** Time to send `bytes` characters at `baud` with `framing` (default 8E1), in ms. */
export function wireTimeMs(bytes: number, baud: number, framing: Framing = DEFAULT_FRAMING): number {
  return (bytes * bitsPerChar(framing) * 1000) / baud;
}

/** Inter-frame silence (t3.5) at `baud`, in ms: 3.5 characters, or 1.75 ms above 19200 baud. */
export function silenceMs(baud: number, framing: Framing = DEFAULT_FRAMING): number {
  return baud > 19200 ? 1.75 : wireTimeMs(SILENCE_CHARS, baud, framing);
}

/** One request/answer exchange on the wire: request + silence + answer + silence, in ms. */
export function transactionWireTimeMs(requestBytes: number, answerBytes: number, baud: number, framing: Framing = DEFAULT_FRAMING): number {
  return wireTimeMs(requestBytes, baud, framing) + wireTimeMs(answerBytes, baud, framing) + 2 * silenceMs(baud, framing);
}

/** FC02 request: unit, function, address (2), count (2), CRC (2). */
export const READ_BITS_REQUEST_BYTES = 8;

/** Size of the answer to FC01/FC02 for `count` bits: unit, fc, byte count, data, CRC. */
export function readBitsAnswerBytes(count: number): number {
  return 5 + Math.ceil(count / 8);
}

/** Frame = `pdu` prefixed by the unit id and followed by its CRC (low byte first). */
export function buildFrame(unitId: number, pdu: Uint8Array | number[]): Buffer {
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unitId;
  Buffer.from(pdu).copy(frame, 1);
  frame.writeUInt16LE(crc16Modbus(frame, 0, frame.length - 2), frame.length - 2);
  return frame;
}

export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const expected = crc16Modbus(frame, 0, frame.length - 2);
  return frame[frame.length - 2] === (expected & 0xff) && frame[frame.length - 1] === expected >>> 8;
}

/**
 * Length of the request frame that starts `buf`, from its function code, or `undefined` while too
 * few bytes are there to tell, or `null` for a function code whose length cannot be derived.
 */
export function requestFrameLength(buf: Uint8Array): number | undefined | null {
  if (buf.length < 2) return undefined;
  switch (buf[1]) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
      return 8;
    case 0x0f:
    case 0x10:
      return buf.length < 7 ? undefined : 9 + buf[6];
    default:
      return null;
  }
}

/** Pack booleans LSB-first into bytes, as FC01/FC02 answers and FC15 requests carry them. */
export function packBits(bits: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    if (bit) out[i >> 3] |= 1 << (i & 7);
  });
  return out;
}

export function unpackBits(bytes: Uint8Array, count: number): boolean[] {
  const bits: boolean[] = [];
  for (let i = 0; i < count; i++) bits.push(((bytes[i >> 3] >> (i & 7)) & 1) === 1);
  return bits;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}
