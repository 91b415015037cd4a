/** Retained tray state on MQTT: `trays/<n>` for each changed tray and the `occupancy` summary. */
import { countByState, displayState, type Tray } from '../domain/tray.js';
import type { Clock } from '../domain/clock.js';
import type { TrayStatePublisher } from '../services/ports.js';
import type { RetainedState } from './retained.js';

export class RetainedTrayState implements TrayStatePublisher {
  constructor(
    private readonly retained: () => RetainedState,
    private readonly clock: Clock,
  ) {}

  publishTrays(all: Tray[], changed: number[]): void {
    const at = this.clock.now().toISOString();
    const retained = this.retained();
    const wanted = new Set(changed);
    for (const tray of all) {
      if (!wanted.has(tray.number)) continue;
      void retained.publishRetained(`trays/${tray.number}`, {
        number: tray.number,
        cabinet: tray.cabinet,
        size: tray.size,
        state: displayState(tray),
        door: tray.door,
        at,
      });
    }
    void retained.publishRetained('occupancy', {
      at,
      counts: countByState(all),
      trays: all.map((t) => ({ number: t.number, state: displayState(t), door: t.door })),
    });
  }
}
