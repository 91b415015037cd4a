/**
 * The simulated cabinet's wire side: one bus of boards behind a TCP listener, the way an
 * RS-485/Ethernet gateway in transparent mode is reached (raw RTU frames with their CRC in the TCP
 * stream). It cuts requests out of the stream, lets the addressed board answer, applies the board's
 * injected fault to the answer and, when pacing, sends it after the wire time at the bus baud rate.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { BusSpec } from '../src/domain/cabinet.js';
import { DueQueue } from './due-queue.js';
import { buildFrame, framingOf, hasValidCrc, hex, requestFrameLength, silenceMs, wireTimeMs, type Framing } from './rtu-frame.js';
import type { SimBoard } from './simulator-board.js';

export type SimFaultKind = 'none' | 'no_answer' | 'crc_error' | 'garbage' | 'slow' | 'offline';
export const SIM_FAULT_KINDS: readonly SimFaultKind[] = ['none', 'no_answer', 'crc_error', 'garbage', 'slow', 'offline'];

export interface SimFault {
  kind: SimFaultKind;
  /** For `slow`: how much later than usual the board answers, in ms. */
  delayMs?: number;
}

export interface SimBusServerOptions {
  bus: BusSpec;
  /** The boards on this bus. */
  boards: SimBoard[];
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Send each answer after the wire time of request and answer at the bus baud rate. */
  paceWireTime: boolean;
  /** The fault injected on a board now. */
  faultOf: (board: SimBoard) => SimFault;
  /** Randomness for `garbage` answers. */
  random: () => number;
  logger?: Logger;
}

export class SimBusServer {
  readonly id: string;
  /** Where the bus listens (the port actually bound once listening). */
  port: number;
  private server = net.createServer();
  private readonly sockets = new Set<net.Socket>();
  /** performance.now() at which the half-duplex line is free again (pacing only). */
  private lineFreeAtMs = 0;
  private readonly answers = new DueQueue();
  private readonly boardsByUnit = new Map<number, SimBoard>();
  /** The bus's character framing: the pacing counts its bits per character. */
  private readonly framing: Framing;
  private refuseTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: SimBusServerOptions) {
    this.id = options.bus.id;
    this.port = options.port;
    this.framing = framingOf(options.bus);
    for (const board of options.boards) this.boardsByUnit.set(board.spec.unitId, board);
  }

  listen(): Promise<void> {
    this.server.on('connection', (socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.options.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Stop listening and drop every connection and pending answer. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.dropSockets();
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }

  /** Drop every connection; with `refuseMs`, close the listener and reopen it that much later. */
  async closeConnections(opts: { refuseMs?: number } = {}): Promise<void> {
    this.dropSockets();
    if (!opts.refuseMs) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.refuseTimer = setTimeout(() => {
      this.refuseTimer = undefined;
      if (this.closed) return;
      this.server = net.createServer();
      this.listen().catch((err) => this.options.logger?.error({ err, bus: this.id }, 'simulator relisten failed'));
    }, opts.refuseMs);
  }

  private dropSockets(): void {
    this.answers.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const length = requestFrameLength(pending);
        if (length === undefined) return;
        // A function code of unknown length: a transparent gateway forwards what came in one burst.
        const frameLength = length ?? pending.length;
        if (pending.length < frameLength) return;
        const frame = pending.subarray(0, frameLength);
        pending = pending.subarray(frameLength);
        if (!hasValidCrc(frame)) {
          // A slave ignores a frame with a bad CRC; what follows cannot be trusted either.
          this.options.logger?.debug({ bus: this.id, frame: hex(frame) }, 'simulator: bad CRC, frame ignored');
          pending = Buffer.alloc(0);
          return;
        }
        this.serve(socket, Buffer.from(frame));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private serve(socket: net.Socket, request: Buffer): void {
    const { baudRate } = this.options.bus;
    const unitId = request[0];
    const board = this.boardsByUnit.get(unitId);
    const pace = this.options.paceWireTime;
    const now = performance.now();
    const lineFreeAt = Math.max(now, this.lineFreeAtMs);
    const framing = this.framing;
    const requestDoneAt = lineFreeAt + wireTimeMs(request.length, baudRate, framing) + silenceMs(baudRate, framing);
    const fault = board ? this.options.faultOf(board) : undefined;
    if (!board || fault!.kind === 'offline' || fault!.kind === 'no_answer') {
      // Nobody answers; the request still occupied the line.
      if (pace) this.lineFreeAtMs = requestDoneAt;
      return;
    }
    let answer: Buffer = buildFrame(unitId, board.answer(request.subarray(1, request.length - 2)));
    if (fault!.kind === 'crc_error') {
      answer[answer.length - 1] ^= 0xff;
      answer[answer.length - 2] ^= 0x5a;
    } else if (fault!.kind === 'garbage') {
      const random = this.options.random;
      answer = Buffer.from(Array.from({ length: 3 + Math.floor(random() * 10) }, () => Math.floor(random() * 256)));
    }
    if (this.options.logger?.isLevelEnabled('debug')) {
      this.options.logger.debug({ bus: this.id, request: hex(request), answer: hex(answer) }, 'simulator frame');
    }
    const send = (): void => {
      if (!socket.destroyed) socket.write(answer);
    };
    const answerSentAt = requestDoneAt + wireTimeMs(answer.length, baudRate, framing);
    const answerDoneAt = answerSentAt + silenceMs(baudRate, framing);
    if (fault!.kind === 'slow') {
      // A late answer does not hold the line for the master, which has moved on after its timeout.
      const delay = (pace ? answerSentAt - now : 0) + (fault!.delayMs ?? 0);
      setTimeout(send, delay).unref();
      if (pace) this.lineFreeAtMs = requestDoneAt;
      return;
    }
    if (!pace) {
      send();
      return;
    }
    // The master has the answer once its last character is on the wire; the line stays silent for
    // t3.5 more, so a request sent meanwhile starts after it (a master's turnaround overlaps the
    // silence, as on a real line). Inputs are sampled when the answer is sent: never earlier than
    // a board could have read them.
    this.lineFreeAtMs = answerDoneAt;
    const pdu = request[1] === 0x01 || request[1] === 0x02 ? request.subarray(1, request.length - 2) : undefined;
    const plain = fault!.kind === 'none';
    this.answers.at(answerSentAt, () => {
      if (pdu && plain) answer = buildFrame(unitId, board.answer(pdu));
      send();
    });
  }
}
