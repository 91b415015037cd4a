/**
 * One Modbus RTU bus: the modbus-serial client, its (re)opening and every request on it.
 *
 * Requests go through a priority queue (modbus-serial does not queue), each with the client's
 * timeout plus our own guard timer, bounded retries on timeout and CRC failures, and a cleared
 * receive buffer after a failure so a late answer cannot be taken for the next request's.
 * A serial path is opened with the buffered RTU port; a gateway (`host`) with the telnet port,
 * which puts raw RTU frames, CRC included, in the TCP stream (transparent gateway mode).
 */
import modbusSerial from 'modbus-serial';
import type { Logger } from 'pino';
import type { BusSpec } from '../src/domain/cabinet.js';
import { AppError, type ErrorCode } from '../src/domain/errors.js';
import type { BusFaultCause } from '../src/services/ports.js';
import { BusQueue, type BusPriority } from './bus-queue.js';

export type ModbusRequest =
  | { fc: 1 | 2; unit: number; address: number; count: number }
  | { fc: 5; unit: number; address: number; on: boolean }
  /** FC05 with a raw value (Waveshare flash: pulse length in 100 ms units). */
  | { fc: 5; unit: number; address: number; value: number }
  | { fc: 15; unit: number; address: number; values: boolean[] };

export interface RequestOptions {
  priority: BusPriority;
  /** Further attempts after a timeout or CRC failure; defaults to the bus's `retries`. */
  retries?: number;
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

/** Extra time our guard waits beyond the client's own timeout before giving up on a request. */
const GUARD_MARGIN_MS = 25;

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

/** modbus-serial is CommonJS: its class is the module itself, typed as its `default`. */
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

type Callback = (err: unknown, result?: { data?: boolean[] }) => void;

export class ModbusLink {
  private client: ModbusRTU | undefined;
  private readonly queue = new BusQueue();
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private isUp = false;
  private failedSinceLastWrite = false;
  lastError: string | undefined;

  constructor(
    readonly spec: BusSpec,
    private readonly opts: {
      logger: Logger;
      reopenDelayMs: number;
      events: LinkEvents;
      /** Overrides the spec's address (the simulator's endpoint); asked at every (re)open. */
      endpoint?: () => { host: string; port: number } | undefined;
    },
  ) {}

  get open(): boolean {
    return this.isUp && this.client?.isOpen === true;
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
    this.queue.drain(this.unavailable('link stopped'));
    const client = this.client;
    this.client = undefined;
    this.isUp = false;
    if (client) await closeQuietly(client);
  }

  /** Queue one request; resolves with the bits read (reads) or nothing (writes). */
  request(req: ModbusRequest, options: RequestOptions): Promise<boolean[] | undefined> {
    return this.queue.push(options.priority, () => this.execute(req, options.retries ?? this.spec.retries));
  }

  private async execute(req: ModbusRequest, retries: number): Promise<boolean[] | undefined> {
    let attempt = 0;
    for (;;) {
      try {
        return await this.attempt(req);
      } catch (err) {
        const busError = err as BusError;
        const retryable = busError.code === 'BUS_TIMEOUT' || busError.code === 'BUS_CRC_ERROR';
        if (!retryable || attempt >= retries) {
          if (attempt > 0) busError.message += ` (after ${attempt + 1} attempts)`;
          // A closed link keeps the reason it closed as the bus's last error.
          if (!(busError instanceof BusError && busError.faultCause === 'port_closed')) this.lastError = busError.message;
          throw busError;
        }
        attempt += 1;
        if (this.opts.logger.isLevelEnabled('debug')) {
          this.opts.logger.debug({ bus: this.spec.id, attempt, err: busError.message }, 'retrying request');
        }
      }
    }
  }

  private attempt(req: ModbusRequest): Promise<boolean[] | undefined> {
    return new Promise((resolve, reject) => {
      const client = this.client;
      if (!client || !this.open) {
        reject(this.unavailable('link is not open', req));
        return;
      }
      if (this.failedSinceLastWrite) {
        this.clearReceiveBuffer(client);
        this.failedSinceLastWrite = false;
      }
      let done = false;
      const finish: Callback = (err, result) => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        if (err) {
          const mapped = this.mapError(err, req);
          if (mapped.code === 'BUS_TIMEOUT' || mapped.code === 'BUS_CRC_ERROR') {
            this.clearReceiveBuffer(client);
            this.failedSinceLastWrite = true;
          }
          reject(mapped);
          return;
        }
        resolve(result?.data);
      };
      const guard = setTimeout(
        () => finish(Object.assign(new Error('Timed out'), { errno: 'ETIMEDOUT', guard: true })),
        this.spec.timeoutMs + GUARD_MARGIN_MS,
      );
      if (this.opts.logger.isLevelEnabled('trace')) {
        this.opts.logger.trace({ request: describeRequest(this.spec.id, req) }, 'modbus request');
      }
      switch (req.fc) {
        case 1:
          client.writeFC1(req.unit, req.address, req.count, finish as never);
          break;
        case 2:
          client.writeFC2(req.unit, req.address, req.count, finish as never);
          break;
        case 5:
          if ('value' in req) {
            client.writeCustomFC(req.unit, 5, [req.address >> 8, req.address & 0xff, req.value >> 8, req.value & 0xff], finish as never);
          } else {
            client.writeFC5(req.unit, req.address, req.on, finish as never);
          }
          break;
        case 15:
          client.writeFC15(req.unit, req.address, req.values, finish as never);
          break;
      }
    });
  }

  private mapError(err: unknown, req: ModbusRequest): BusError {
    const e = err as { message?: string; errno?: string; name?: string; modbusCode?: number };
    const what = describeRequest(this.spec.id, req);
    const details = { bus: this.spec.id, unit: req.unit, functionCode: req.fc, address: req.address };
    const message = e.message ?? String(err);
    if (e.errno === 'ETIMEDOUT' || message === 'Timed out') {
      return new BusError('BUS_TIMEOUT', 'timeout', `${what}: no answer within ${this.spec.timeoutMs} ms`, details, { cause: err });
    }
    if (message.startsWith('CRC error') || message.startsWith('Data length error') || message.startsWith('Unexpected data')) {
      return new BusError('BUS_CRC_ERROR', 'crc', `${what}: corrupt answer (${message})`, details, { cause: err });
    }
    if (typeof e.modbusCode === 'number') {
      return new BusError(
        'BUS_UNAVAILABLE',
        'exception',
        `${what}: ${message}`,
        { ...details, exceptionCode: e.modbusCode },
        { cause: err },
      );
    }
    if (e.name === 'PortNotOpenError' || message === 'Port Not Open') {
      return this.unavailable('link is not open', req);
    }
    return new BusError('BUS_UNAVAILABLE', 'io', `${what}: ${message}`, details, { cause: err });
  }

  private unavailable(reason: string, req?: ModbusRequest): BusError {
    const where = req ? describeRequest(this.spec.id, req) : `bus ${this.spec.id}`;
    return new BusError('BUS_UNAVAILABLE', 'port_closed', `${where}: ${reason}`, { bus: this.spec.id, unit: req?.unit });
  }

  /** Forget whatever the port has received so far (a late or partial answer). */
  private clearReceiveBuffer(client: ModbusRTU): void {
    const port = (client as unknown as { _port?: { _buffer?: Buffer } })._port;
    if (port && port._buffer) port._buffer = Buffer.alloc(0);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new ModbusRTU();
    const target = this.opts.endpoint?.() ?? (this.spec.host ? { host: this.spec.host, port: this.spec.port ?? 502 } : undefined);
    const where = target ? `${target.host}:${target.port}` : (this.spec.path ?? '(no path)');
    try {
      await withTimeout(
        target
          ? client.connectTelnet(target.host, { port: target.port })
          : client.connectRTUBuffered(this.spec.path ?? '', { baudRate: this.spec.baudRate }),
        Math.max(2000, this.spec.timeoutMs * 10),
        `opening ${where} timed out`,
      );
    } catch (err) {
      await closeQuietly(client);
      this.lastError = `bus ${this.spec.id}: cannot open ${where}: ${(err as Error).message ?? String(err)}`;
      this.opts.logger.warn({ bus: this.spec.id, where, err: (err as Error).message }, 'bus link did not open; retrying');
      this.opts.events.down(this.lastError);
      this.scheduleReopen();
      return;
    }
    if (this.stopped) {
      await closeQuietly(client);
      return;
    }
    client.setTimeout(this.spec.timeoutMs);
    const socket = (client as unknown as { _port?: { _client?: { setNoDelay?: (v: boolean) => void } } })._port?._client;
    socket?.setNoDelay?.(true);
    client.on('close', () => this.onClosed(client));
    client.on('error', (err: unknown) => {
      this.opts.logger.warn({ bus: this.spec.id, err: (err as Error).message }, 'bus link error');
    });
    this.client = client;
    this.isUp = true;
    this.failedSinceLastWrite = false;
    this.opts.logger.info({ bus: this.spec.id, where }, 'bus link open');
    this.opts.events.up();
  }

  private onClosed(client: ModbusRTU): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    this.isUp = false;
    this.lastError = `bus ${this.spec.id}: link closed`;
    this.opts.logger.warn({ bus: this.spec.id }, 'bus link closed; reopening');
    void closeQuietly(client);
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

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function closeQuietly(client: ModbusRTU): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 200);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    try {
      // The TCP port can be destroyed at once; the serial port has no destroy and is closed.
      const port = (client as unknown as { _port?: { destroy?: unknown } })._port;
      if (port && typeof port.destroy === 'function') client.destroy(done);
      else client.close(done);
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
