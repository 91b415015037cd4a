/**
 * The solenoid current budget (ADR 0015): each lock power supply may feed as many solenoids at once
 * as its rating allows, `floor((amps - reserveAmps) / solenoidAmps)`, each supply with its own
 * limiter. A board's locks draw from the supply that lists it, or from the one that lists no boards.
 * Without `hardware.power`, one supply feeds every lock and `maxConcurrentPulses` (default 1) is its
 * budget.
 */
import type { HardwareConfig } from '../src/config/types.js';
import { AppError } from '../src/domain/errors.js';
import { PulseLimiter } from './pulse-limiter.js';

export interface SupplyBudget {
  id: string;
  /** Solenoids this supply may feed at once. */
  pulsesAtOnce: number;
  /** Boards it feeds; undefined: every board no other supply lists (and GPIO locks). */
  boards?: string[];
}

type PowerConfig = Pick<HardwareConfig, 'power' | 'maxConcurrentPulses' | 'pulseMs' | 'pulseSpacingMs'>;

/** The budget of each supply the configuration describes. */
export function supplyBudgets(config: PowerConfig): SupplyBudget[] {
  const power = config.power;
  if (!power) return [{ id: 'default', pulsesAtOnce: config.maxConcurrentPulses ?? 1 }];
  return power.supplies.map((supply, i) => {
    const pulsesAtOnce = Math.floor((supply.amps - (supply.reserveAmps ?? 0) + 1e-9) / power.solenoidAmps);
    if (pulsesAtOnce < 1) {
      throw new AppError(
        'CONFIG_INVALID',
        `hardware.power.supplies[${i}] (${supply.id}): ${supply.amps} A less ${supply.reserveAmps ?? 0} A reserve cannot feed one ${power.solenoidAmps} A solenoid`,
      );
    }
    return { id: supply.id, pulsesAtOnce, boards: supply.boards };
  });
}

export class PowerBudget {
  private readonly limiters = new Map<string, PulseLimiter>();
  private readonly byBoard = new Map<string, PulseLimiter>();
  private readonly fallback: PulseLimiter | undefined;
  readonly supplies: SupplyBudget[];

  constructor(config: PowerConfig) {
    this.supplies = supplyBudgets(config);
    let fallback: PulseLimiter | undefined;
    for (const supply of this.supplies) {
      const limiter = new PulseLimiter({ maxConcurrent: supply.pulsesAtOnce, pulseMs: config.pulseMs, spacingMs: config.pulseSpacingMs });
      this.limiters.set(supply.id, limiter);
      if (!supply.boards) fallback ??= limiter;
      for (const board of supply.boards ?? []) {
        if (this.byBoard.has(board)) throw new AppError('CONFIG_INVALID', `hardware.power: board ${board} is listed by two supplies`);
        this.byBoard.set(board, limiter);
      }
    }
    this.fallback = fallback ?? (this.supplies.length === 1 ? this.limiters.get(this.supplies[0].id) : undefined);
  }

  /** The limiter of the supply feeding this board's locks (GPIO: no board). */
  limiterFor(board?: string): PulseLimiter {
    const limiter = (board === undefined ? undefined : this.byBoard.get(board)) ?? this.fallback;
    if (!limiter) {
      throw new AppError('CONFIG_INVALID', `hardware.power: no supply feeds ${board === undefined ? 'the GPIO locks' : `board ${board}`}`);
    }
    return limiter;
  }

  /** Checks that every board has a supply (at start-up, so a wrong map stops the daemon). */
  check(boards: string[]): void {
    for (const board of boards) this.limiterFor(board);
  }
}
