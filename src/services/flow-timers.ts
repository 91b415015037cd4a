/**
 * The clock-driven side of the flows: deposits whose door never opened, pickup releases that
 * lapsed, doors held open. One timer, driven by the injected clock's notion of now, so a shifted
 * simulator clock moves the deadlines too. `tick()` runs one pass (tests call it directly).
 */
import type { Logger } from 'pino';
import type { DepositService } from './deposits.js';
import type { PickupService } from './pickups.js';
import type { TrayService } from './trays.js';

export class FlowTimers {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      deposits: DepositService;
      pickups: PickupService;
      trays: TrayService;
      heldOpenMs: number;
      intervalMs: number;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; a pass already under way is awaited rather than doubled. */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.deps.deposits.sweep();
        await this.deps.pickups.sweep();
        await this.deps.trays.sweepHeldOpen(this.deps.heldOpenMs);
      } catch (err) {
        this.deps.logger.error({ err }, 'flow timers pass failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
