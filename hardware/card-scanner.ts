/**
 * The citizen ID card scanner the controller reads itself (docs/id-card.md):
 * - `SerialCardScanner`: a QR scanner on a serial line (RS-232 or a USB adapter in "virtual COM"
 *   mode) that sends each code's text followed by CR, LF or CR LF. Lines are cut on any of the
 *   three (a scanner's suffix is a setting of the scanner), UTF-8 decoded across chunk boundaries
 *   (names carry Vietnamese letters), and a line longer than any card's text is dropped. A port
 *   that cannot be opened, or that goes away (unplugged), is reopened every `reopenDelayMs`.
 * - `SimulatedCardScanner`: beside the simulated cabinet; a card is "presented" through
 *   `POST /api/sim/id-card`.
 * Neither logs what it reads.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import { CARD_QR_MAX_LENGTH } from '../src/domain/citizen-id.js';
import type { CardScanner, SimulatedCardScanner as SimulatedScannerPort } from '../src/services/ports.js';

/** What the scanner needs of a serialport port (its `SerialPort` or `SerialPortMock`). */
export interface ScannerPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback: (err?: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export type ScannerPortConstructor = new (options: { path: string; baudRate: number; autoOpen: false }) => ScannerPortLike;

/** A line longer than this is not a card (the text's limit, with room for a scanner's prefix). */
const MAX_LINE = CARD_QR_MAX_LENGTH + 64;

/** Cuts a byte stream into lines on CR, LF or CR LF; drops an over-long line whole. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private overlong = false;

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    const parts = (this.pending + this.decoder.write(chunk)).split(/\r\n|\r|\n/);
    this.pending = parts.pop() ?? '';
    for (const line of parts) {
      const dropped = this.overlong;
      this.overlong = false;
      if (!dropped && line.length > 0 && line.length <= MAX_LINE) this.emit(line);
    }
    if (this.pending.length > MAX_LINE) {
      this.pending = '';
      this.overlong = true;
    }
  }

  reset(): void {
    this.pending = '';
    this.overlong = false;
    this.decoder.end();
  }
}

abstract class ListenedScanner {
  private readonly listeners: ((text: string) => void)[] = [];

  onRead(listener: (text: string) => void): void {
    this.listeners.push(listener);
  }

  protected read(text: string): void {
    for (const listener of this.listeners) listener(text);
  }
}

export interface SerialCardScannerOptions {
  path: string;
  baudRate: number;
  logger: Logger;
  reopenDelayMs?: number;
  /** Builds the serial port (default: serialport's `SerialPort`; tests give its mock). */
  serialPort?: ScannerPortConstructor;
}

export class SerialCardScanner extends ListenedScanner implements CardScanner {
  readonly source = 'serial' as const;
  private port: ScannerPortLike | undefined;
  private stopped = true;
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly lines = new LineSplitter((line) => this.read(line));
  /** The last failure said at warn, so that a missing scanner is not logged at every retry. */
  private lastProblem: string | undefined;

  constructor(private readonly opts: SerialCardScannerOptions) {
    super();
  }

  /** Whether the port is open now. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    port.removeAllListeners();
    port.on('error', () => undefined);
    if (!port.isOpen) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(done, 200);
      port.close(() => {
        clearTimeout(timer);
        done();
      });
    });
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const { path, baudRate, logger } = this.opts;
    try {
      const SerialPort: ScannerPortConstructor = this.opts.serialPort ?? (await import('serialport')).SerialPort;
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      if (this.stopped) {
        port.close(() => undefined);
        return;
      }
      this.port = port;
      this.lines.reset();
      port.on('data', (chunk: Buffer) => this.lines.push(chunk));
      port.on('error', (err: Error) => logger.warn({ path, err: err.message }, 'ID card scanner: serial port error'));
      port.on('close', () => {
        if (this.port !== port) return;
        this.port = undefined;
        logger.warn({ path }, 'ID card scanner: serial port closed; reopening');
        this.scheduleReopen();
      });
      this.lastProblem = undefined;
      logger.info({ path, baudRate }, 'ID card scanner open');
    } catch (err) {
      const problem = (err as Error).message;
      if (problem !== this.lastProblem) logger.warn({ path, err: problem }, 'ID card scanner: cannot open the serial port; retrying');
      this.lastProblem = problem;
      this.scheduleReopen();
    }
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.open();
    }, this.opts.reopenDelayMs ?? 5_000);
    this.reopenTimer.unref?.();
  }
}

export class SimulatedCardScanner extends ListenedScanner implements SimulatedScannerPort {
  readonly source = 'simulator' as const;

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** A card held to the simulated scanner: its text is read as the serial scanner reads a line. */
  present(text: string): void {
    this.read(text.replace(/[\r\n]+$/, ''));
  }
}

export interface IdScannerSettings {
  kind: 'none' | 'serial' | 'simulated';
  path?: string | null;
  baudRate?: number;
}

/** The scanner the configuration asks for (`idScanner`), or none; nothing is opened before `start()`. */
export function createCardScanner(settings: IdScannerSettings, logger: Logger): SerialCardScanner | SimulatedCardScanner | undefined {
  switch (settings.kind) {
    case 'serial':
      return new SerialCardScanner({ path: settings.path!, baudRate: settings.baudRate ?? 9600, logger });
    case 'simulated':
      return new SimulatedCardScanner();
    default:
      return undefined;
  }
}
