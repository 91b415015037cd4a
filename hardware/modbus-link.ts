/**
 * One Modbus RTU bus: its transport, its (re)opening and every request/answer exchange on it.
 *
 * Requests go through a priority queue, one at a time (RS-485 is half duplex), each with a timeout,
 * bounded retries on timeouts and corrupt answers, and a receive buffer that only takes bytes while
 * an answer is awaited, so a late answer cannot be taken for a later request's.
 *
 * The exchange is the hot path of the door scan, so it is lean: the answer is assembled in one
 * buffer of the link and read where it lies (no copies), the answer length is known from the
 * request, and the timeout is one timer per link re-armed with `refresh()`: nothing is scheduled
 * between two frames. A serial path is opened with the bus's baud rate, parity, data and stop bits;
 * a gateway (`host`) is a TCP stream of raw RTU frames, CRC included (transparent mode, ADR 0003).
 */
import { describeOpenFailure } from './open-failure.js';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { BusSpec } from '../src/domain/cabinet.js';
import { AppError, type ErrorCode } from '../src/domain/errors.js';
import type { BusFaultCause, BusObserver, ExchangeOutcome } from '../src/services/ports.js';
import { BusQueue, type BusPriority } from './bus-queue.js';
import { crc16Modbus } from './crc16.js';
import { framingOf, silenceMs, type Framing } from './rtu-frame.js';

export type ModbusRequest =
  | { fc: 1 | 2; unit: number; address: number; count: number }
  | { fc: 5; unit: number; address: number; on: boolean }
  /** FC05 with a raw value (Waveshare flash: pulse length in 100 ms units). */
  | { fc: 5; unit: number; address: number; value: number }
  | { fc: 15; unit: number; address: number; values: boolean[] };

/** Reads the answer's data bytes where they lie: `bytes[offset]` … `bytes[offset + length - 1]`. */
export type AnswerReader = (bytes: Buffer, offset: number, length: number) => void;

export interface RequestOptions {
  priority: BusPriority;
  /** Further attempts after a timeout or corrupt answer; defaults to the bus's `retries`. */
  retries?: number;
  /** FC01/FC02: called with the answer's data bytes (packed bits, LSB first) before the promise resolves. */
  read?: AnswerReader;
  /** Called when the request's first frame is handed to the line. */
  onWrite?: () => void;
}

export interface LinkEvents {
  up(): void;
  down(cause: string): void;
}

const FC_NAMES: Record<number, string> = {
  1: 'FC01 read coils',
  2: 'FC02 read discrete inputs',
  5: 'FC05 write coil',
  15: 'FC15 write coils',
};

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'Illegal function',
  2: 'Illegal data address',
  3: 'Illegal data value',
  4: 'Slave device failure',
  5: 'Acknowledge',
  6: 'Slave device busy',
};

/** Longest RTU frame (256 bytes) with room for a stray byte or two. */
const RX_CAPACITY = 300;

/** A failed request: a stable code for callers, the fault cause for `fault` events. */
export class BusError extends AppError {
  readonly faultCause: BusFaultCause;

  constructor(
    code: ErrorCode,
    faultCause: BusFaultCause,
    message: string,
    details: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, message, { ...details, faultCause }, options);
    this.faultCause = faultCause;
  }
}

export function describeRequest(busId: string, req: ModbusRequest): string {
  const addr = `0x${req.address.toString(16).padStart(4, '0')}`;
  let what = `${FC_NAMES[req.fc]} at ${addr}`;
  if ('count' in req) what += ` ×${req.count}`;
  if ('values' in req) what += ` ×${req.values.length}`;
  if ('value' in req) what += ` value ${req.value}`;
  if ('on' in req) what += req.on ? ' on' : ' off';
  return `bus ${busId} unit ${req.unit}: ${what}`;
}

/** The request frame, CRC included. */
export function encodeRequest(req: ModbusRequest): Buffer {
  let frame: Buffer;
  switch (req.fc) {
    case 1:
    case 2:
      frame = Buffer.allocUnsafe(8);
      frame.writeUInt16BE(req.count, 4);
      break;
    case 5:
      frame = Buffer.allocUnsafe(8);
      frame.writeUInt16BE('value' in req ? req.value : req.on ? 0xff00 : 0x0000, 4);
      break;
    case 15: {
      const byteCount = Math.ceil(req.values.length / 8);
      frame = Buffer.alloc(9 + byteCount);
      frame.writeUInt16BE(req.values.length, 4);
      frame[6] = byteCount;
      req.values.forEach((on, i) => {
        if (on) frame[7 + (i >> 3)] |= 1 << (i & 7);
      });
      break;
    }
  }
  frame[0] = req.unit;
  frame[1] = req.fc;
  frame.writeUInt16BE(req.address, 2);
  frame.writeUInt16LE(crc16Modbus(frame, 0, frame.length - 2), frame.length - 2);
  return frame;
}

/** A byte stream to the boards: a TCP gateway or a serial port. */
interface Transport {
  readonly isOpen: boolean;
  write(frame: Buffer): void;
  close(): Promise<void>;
}

interface TransportEvents {
  /** Bytes from the line: `bytes[0]` … `bytes[length - 1]`, valid only during the call. */
  data(bytes: Buffer, length: number): void;
  close(): void;
  error(err: Error): void;
}

/** One request in flight: its attempts, and where its answer goes. */
interface Exchange {
  req: ModbusRequest;
  frame: Buffer;
  retries: number;
  attempt: number;
  read?: AnswerReader;
  onWrite?: () => void;
  resolve: () => void;
  reject: (err: BusError) => void;
}

export class ModbusLink {
  private transport: Transport | undefined;
  private readonly queue = new BusQueue<Exchange>((exchange) => {
    // The next exchange starts from within the previous one's end (a socket read, a timer): a
    // throw here fails this exchange only, as a rejected request, never the process.
    try {
      this.send(exchange);
    } catch (err) {
      if (this.current === exchange) {
        this.current = undefined;
        this.rxLength = 0;
      }
      this.end(exchange, this.failure('io', exchange.req, (err as Error).message, err));
    }
  });
  /** Each request object's frame, encoded once (the door polls are the same objects at every scan). */
  private readonly frames = new WeakMap<ModbusRequest, Buffer>();
  private readonly framing: Framing;
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private isUp = false;
  /** The exchange whose answer is awaited, if any. */
  private current: Exchange | undefined;
  private readonly rx = Buffer.allocUnsafe(RX_CAPACITY);
  private rxLength = 0;
  /** One timeout timer for the link, re-armed at every write (a cleared timer cannot be re-armed). */
  private timer: NodeJS.Timeout | undefined;
  /**
   * After a timeout or a corrupt answer the line may still carry the late or broken answer: the
   * next frame waits until the line has been silent for `quietMs` (bytes meanwhile are discarded),
   * so that a late answer is never taken for the next request's.
   */
  private needQuiet = false;
  private lastRxAt = 0;
  private readonly quietMs: number;
  lastError: string | undefined;

  constructor(
    readonly spec: BusSpec,
    private readonly opts: {
      logger: Logger;
      reopenDelayMs: number;
      events: LinkEvents;
      /** Overrides the spec's address (the simulator's endpoint); asked at every (re)open. */
      endpoint?: () => { host: string; port: number } | undefined;
      observer?: BusObserver;
      /** The board id of a unit on this bus, for the observer. */
      boardOf?: (unit: number) => string;
      /** Builds the serial port (default: serialport's `SerialPort`; tests give its mock). */
      serialPort?: SerialPortConstructor;
    },
  ) {
    this.framing = framingOf(spec);
    if (spec.path && spec.parity === undefined) {
      // A site map written before framing was configurable: say which framing is assumed.
      opts.logger.warn(
        { bus: spec.id },
        `bus ${spec.id}: the cabinet map gives no parity; using ${this.framing.dataBits}${this.framing.parity[0].toUpperCase()}${this.framing.stopBits} (the Modbus default). Waveshare-type boards need "parity: none"`,
      );
    }
    this.quietMs = Math.max(3 * silenceMs(spec.baudRate, this.framing), spec.timeoutMs / 2);
  }

  get open(): boolean {
    return this.isUp && this.transport?.isOpen === true;
  }

  /** Open the link; on failure a reopen is scheduled and the promise still resolves. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const stopped = this.unavailable('link stopped');
    for (const exchange of this.queue.drain()) exchange.reject(stopped);
    this.fail(this.current, this.unavailable('link stopped', this.current?.req), 'io');
    const transport = this.transport;
    this.transport = undefined;
    this.isUp = false;
    if (transport) await transport.close();
  }

  /**
   * Queue one request; resolves once answered (reads hand their data bytes to `read` first). A
   * request object is encoded the first time it is seen: do not change one after handing it over.
   */
  request(req: ModbusRequest, options: RequestOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let frame = this.frames.get(req);
      if (!frame) {
        frame = encodeRequest(req);
        this.frames.set(req, frame);
      }
      const exchange: Exchange = {
        req,
        frame,
        retries: options.retries ?? this.spec.retries,
        attempt: 0,
        read: options.read,
        onWrite: options.onWrite,
        resolve,
        reject,
      };
      this.queue.push(options.priority, exchange);
    });
  }

  /** The request is over: settle its promise and let the next one go. */
  private end(exchange: Exchange, err?: BusError): void {
    if (err) exchange.reject(err);
    else exchange.resolve();
    this.queue.done(exchange);
  }

  private send(exchange: Exchange): void {
    if (this.needQuiet) {
      this.needQuiet = false;
      this.afterQuiet(() => this.send(exchange));
      return;
    }
    const transport = this.transport;
    if (!transport || !this.open) {
      this.end(exchange, this.unavailable('link is not open', exchange.req));
      return;
    }
    exchange.attempt += 1;
    this.current = exchange;
    this.rxLength = 0;
    if (this.opts.logger.isLevelEnabled('trace')) {
      this.opts.logger.trace({ request: describeRequest(this.spec.id, exchange.req), attempt: exchange.attempt }, 'modbus request');
    }
    try {
      transport.write(exchange.frame);
    } catch (err) {
      this.settle(exchange, this.failure('io', exchange.req, (err as Error).message, err), 'io');
      return;
    }
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(() => this.onTimeout(), this.spec.timeoutMs);
    if (exchange.attempt === 1) {
      // The frame is on the wire: a failing observer must not fail the exchange, nor the process.
      try {
        exchange.onWrite?.();
      } catch (err) {
        this.opts.logger.error({ err, bus: this.spec.id }, 'a request’s onWrite failed');
      }
    }
  }

  /**
   * Runs `next` once the line has been silent for `quietMs` (or, on a line that never falls silent,
   * after four timeouts: the next exchange then fails on its own and the board goes offline).
   */
  private afterQuiet(next: () => void): void {
    const started = performance.now();
    const wait = (ms: number) =>
      setTimeout(() => {
        const now = performance.now();
        const silentFor = now - this.lastRxAt;
        if (silentFor >= this.quietMs || now - started >= 4 * this.spec.timeoutMs) {
          this.rxLength = 0;
          next();
        } else wait(this.quietMs - silentFor);
      }, ms);
    wait(this.quietMs);
  }

  /** Bytes from the line: kept only while an answer is awaited, checked once the frame is whole. */
  private onData(bytes: Buffer, length: number): void {
    this.lastRxAt = performance.now();
    const exchange = this.current;
    if (!exchange) return;
    if (this.rxLength + length > RX_CAPACITY) {
      this.settle(exchange, this.failure('crc', exchange.req, 'Data length error: answer too long'), 'crc');
      return;
    }
    bytes.copy(this.rx, this.rxLength, 0, length);
    this.rxLength += length;
    this.check(exchange);
  }

  private check(exchange: Exchange): void {
    const rx = this.rx;
    const length = this.rxLength;
    if (length < 2) return;
    const { req } = exchange;
    // A stray byte ahead of the answer (line turnaround, the tail of an old frame): skip to the unit.
    if (rx[0] !== req.unit) {
      const start = rx.indexOf(req.unit, 1);
      if (start < 0 || start >= length) {
        this.rxLength = 0;
        return;
      }
      rx.copyWithin(0, start, length);
      this.rxLength = length - start;
      this.check(exchange);
      return;
    }
    if ((rx[1] & 0x7f) !== req.fc) {
      this.settle(exchange, this.failure('crc', req, `Unexpected data error: unit ${rx[0]}, function ${rx[1]}`), 'crc');
      return;
    }
    const isException = (rx[1] & 0x80) !== 0;
    let expected: number;
    if (isException) expected = 5;
    else if (req.fc === 1 || req.fc === 2) {
      if (length < 3) return;
      if (rx[2] !== Math.ceil(req.count / 8)) {
        this.settle(exchange, this.failure('crc', req, `Data length error: ${rx[2]} data bytes`), 'crc');
        return;
      }
      expected = 5 + rx[2];
    } else expected = 8;
    if (length < expected) return;
    const crc = crc16Modbus(rx, 0, expected - 2);
    if (rx[expected - 2] !== (crc & 0xff) || rx[expected - 1] !== crc >>> 8) {
      this.settle(exchange, this.failure('crc', req, 'CRC error'), 'crc');
      return;
    }
    // A write is acknowledged by the echo of what was written: an answer to another write (a late
    // one, for another coil) is not this one's acknowledgement.
    if (!isException && (req.fc === 5 || req.fc === 15) && rx.compare(exchange.frame, 2, 6, 2, 6) !== 0) {
      this.settle(exchange, this.failure('crc', req, 'Unexpected data error: the answer does not echo the request'), 'crc');
      return;
    }
    if (isException) {
      const code = rx[2];
      this.settle(exchange, this.failure('exception', req, `Modbus exception ${code}: ${EXCEPTION_NAMES[code] ?? 'unknown'}`), 'exception');
      return;
    }
    if (exchange.read) exchange.read(rx, 3, rx[2]);
    this.settle(exchange, undefined, 'ok');
  }

  private onTimeout(): void {
    const exchange = this.current;
    if (!exchange) return;
    this.settle(exchange, this.failure('timeout', exchange.req, `no answer within ${this.spec.timeoutMs} ms`), 'timeout');
  }

  /** End one attempt: resolve, retry, or reject. */
  private settle(exchange: Exchange, err: BusError | undefined, outcome: ExchangeOutcome): void {
    if (this.current !== exchange) return;
    this.current = undefined;
    this.rxLength = 0;
    if (outcome === 'timeout' || outcome === 'crc') this.needQuiet = true;
    if (this.opts.observer) this.opts.observer.exchange(this.boardOf(exchange.req.unit), outcome, exchange.attempt);
    if (!err) {
      this.end(exchange);
      return;
    }
    const retryable = err.code === 'BUS_TIMEOUT' || err.code === 'BUS_CRC_ERROR';
    if (retryable && exchange.attempt <= exchange.retries && this.open) {
      if (this.opts.logger.isLevelEnabled('debug')) {
        this.opts.logger.debug({ bus: this.spec.id, attempt: exchange.attempt, err: err.message }, 'retrying request');
      }
      this.send(exchange);
      return;
    }
    if (exchange.attempt > 1) err.message += ` (after ${exchange.attempt} attempts)`;
    // A closed link keeps the reason it closed as the bus's last error.
    if (err.faultCause !== 'port_closed') this.lastError = err.message;
    this.end(exchange, err);
  }

  private fail(exchange: Exchange | undefined, err: BusError, outcome: ExchangeOutcome): void {
    if (!exchange || this.current !== exchange) return;
    this.current = undefined;
    this.rxLength = 0;
    if (this.opts.observer) this.opts.observer.exchange(this.boardOf(exchange.req.unit), outcome, exchange.attempt);
    this.end(exchange, err);
  }

  private boardOf(unit: number): string {
    return this.opts.boardOf?.(unit) ?? `${this.spec.id}/${unit}`;
  }

  private failure(cause: 'timeout' | 'crc' | 'exception' | 'io', req: ModbusRequest, message: string, err?: unknown): BusError {
    const what = describeRequest(this.spec.id, req);
    const details = { bus: this.spec.id, unit: req.unit, functionCode: req.fc, address: req.address };
    switch (cause) {
      case 'timeout':
        return new BusError('BUS_TIMEOUT', 'timeout', `${what}: ${message}`, details);
      case 'crc':
        return new BusError('BUS_CRC_ERROR', 'crc', `${what}: corrupt answer (${message})`, details);
      case 'exception':
        return new BusError('BUS_UNAVAILABLE', 'exception', `${what}: ${message}`, { ...details, exceptionCode: this.rx[2] });
      default:
        return new BusError('BUS_UNAVAILABLE', 'io', `${what}: ${message}`, details, { cause: err });
    }
  }

  private unavailable(reason: string, req?: ModbusRequest): BusError {
    const where = req ? describeRequest(this.spec.id, req) : `bus ${this.spec.id}`;
    return new BusError('BUS_UNAVAILABLE', 'port_closed', `${where}: ${reason}`, { bus: this.spec.id, unit: req?.unit });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const target = this.opts.endpoint?.() ?? (this.spec.host ? { host: this.spec.host, port: this.spec.port ?? 502 } : undefined);
    const where = target ? `${target.host}:${target.port}` : (this.spec.path ?? '(no path)');
    let transport: Transport | undefined;
    const events: TransportEvents = {
      data: (bytes, length) => {
        if (transport === this.transport) this.onData(bytes, length);
      },
      close: () => {
        if (transport) this.onClosed(transport);
      },
      error: (err) => this.opts.logger.warn({ bus: this.spec.id, err: err.message }, 'bus link error'),
    };
    try {
      transport = target
        ? await openTcp(target.host, target.port, Math.max(2000, this.spec.timeoutMs * 10), events)
        : await openSerial(this.spec.path ?? '', this.spec.baudRate, this.framing, events, this.opts.serialPort);
    } catch (err) {
      const problem = describeOpenFailure(this.spec.id, where, target ? undefined : (this.spec.path ?? ''), err);
      // Said once at warn (and again when the cause changes), not at every reopen.
      const level = problem === this.lastError ? 'debug' : 'warn';
      this.lastError = problem;
      this.opts.logger[level](
        { bus: this.spec.id, where, err: (err as Error).message },
        `${problem}; retrying every ${this.opts.reopenDelayMs} ms`,
      );
      this.opts.events.down(this.lastError);
      this.scheduleReopen();
      return;
    }
    if (this.stopped) {
      await transport.close();
      return;
    }
    this.transport = transport;
    this.isUp = true;
    this.rxLength = 0;
    this.opts.logger.info({ bus: this.spec.id, where }, 'bus link open');
    this.opts.events.up();
  }

  private onClosed(transport: Transport): void {
    if (transport !== this.transport || this.stopped) return;
    this.transport = undefined;
    this.isUp = false;
    this.lastError = `bus ${this.spec.id}: link closed`;
    this.opts.logger.warn({ bus: this.spec.id }, 'bus link closed; reopening');
    this.fail(this.current, this.unavailable('link closed', this.current?.req), 'io');
    void transport.close();
    this.opts.events.down(this.lastError);
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.connect();
    }, this.opts.reopenDelayMs);
  }
}

/**
 * An RS-485/Ethernet gateway in transparent mode: RTU frames in a TCP stream. The socket reads into
 * one buffer of its own (`onread`), handed to the link at each read: no Buffer and no stream
 * machinery per answer ('end', 'error' and 'close' are as usual). Until the link is open, bytes
 * are dropped, as are bytes that come while no answer is awaited.
 */
function openTcp(host: string, port: number, timeoutMs: number, events: TransportEvents): Promise<Transport> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const buffer = Buffer.allocUnsafe(RX_CAPACITY);
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer,
        callback: (length) => {
          if (connected) events.data(buffer, length);
          return true; // keep reading
        },
      },
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`opening ${host}:${port} timed out`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', (err) => events.error(err));
      socket.on('close', () => events.close());
      connected = true;
      resolve({
        get isOpen() {
          return !socket.destroyed && socket.readyState === 'open';
        },
        write: (frame) => void socket.write(frame),
        close: () =>
          new Promise<void>((done) => {
            if (socket.destroyed) return done();
            socket.once('close', () => done());
            socket.destroy();
          }),
      });
    });
  });
}

/** What the link needs of a serialport port (its `SerialPort` or `SerialPortMock`). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  write(data: Buffer): boolean;
  close(callback: (err?: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export type SerialPortConstructor = new (options: {
  path: string;
  baudRate: number;
  dataBits: 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  autoOpen: false;
}) => SerialPortLike;

/** A serial RS-485 adapter, opened with the bus's framing (serialport is loaded only for this). */
async function openSerial(
  path: string,
  baudRate: number,
  framing: Framing,
  events: TransportEvents,
  serialPort?: SerialPortConstructor,
): Promise<Transport> {
  const SerialPort: SerialPortConstructor = serialPort ?? (await import('serialport')).SerialPort;
  const port = new SerialPort({
    path,
    baudRate,
    dataBits: framing.dataBits,
    parity: framing.parity,
    stopBits: framing.stopBits,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('data', (chunk: Buffer) => events.data(chunk, chunk.length));
  port.on('close', () => events.close());
  port.on('error', (err: Error) => events.error(err));
  return {
    get isOpen() {
      return port.isOpen;
    },
    write: (frame) => void port.write(frame),
    close: () =>
      new Promise<void>((done) => {
        if (!port.isOpen) return done();
        const timer = setTimeout(done, 200);
        port.close(() => {
          clearTimeout(timer);
          done();
        });
      }),
  };
}
