/**
 * The solenoid limiter of one power supply (power-budget.ts builds one per supply): at most
 * `maxConcurrent` lock solenoids draw current from it at once. A pulse holds
 * its slot from the moment its command is sent until `pulseMs` after the board acknowledged it,
 * then for `spacingMs` more; waiting pulses get slots in the order they asked (FIFO).
 *
 * A command that failed still holds its slot for the full time: an unacknowledged command may have
 * reached the board and fired all the same.
 */
export interface PulseLimiterOptions {
  maxConcurrent: number;
  pulseMs: number;
  spacingMs: number;
}

export class PulseLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: PulseLimiterOptions) {
    if (options.maxConcurrent < 1) throw new RangeError('maxConcurrent must be at least 1');
  }

  /** Pulses currently drawing or in their spacing gap. */
  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Wait for a slot, run `fire` (send the pulse, resolve on acknowledgement), hold the slot.
   * `mayHaveFired(err)` tells whether a failed command may still have reached the board (default:
   * yes); if not, the slot is given back at once.
   */
  async run<T>(fire: () => Promise<T>, mayHaveFired: (err: unknown) => boolean = () => true): Promise<T> {
    await this.acquire();
    try {
      const result = await fire();
      this.holdThenRelease();
      return result;
    } catch (err) {
      if (mayHaveFired(err)) this.holdThenRelease();
      else this.release();
      throw err;
    }
  }

  private holdThenRelease(): void {
    setTimeout(() => this.release(), this.options.pulseMs + this.options.spacingMs);
  }

  private acquire(): Promise<void> {
    if (this.active < this.options.maxConcurrent && this.waiting.length === 0) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
