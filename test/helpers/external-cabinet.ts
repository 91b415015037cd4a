/** A simulated cabinet outside any controller, for tests that restart the controller in front of it. */
import { CabinetSimulator } from '../../hardware/index.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import type { TestLocker } from './controller.js';

/** A simulated cabinet outside any controller, reached over its RTU-over-TCP endpoints. */
export class ExternalCabinet {
  private constructor(readonly sim: CabinetSimulator) {}

  static async start(t: { teardown(fn: () => unknown): void }): Promise<ExternalCabinet> {
    const map = loadConfig({ env: {} }).hardware.map;
    const sim = new CabinetSimulator({ map, latchHoldMs: 5_000, paceWireTime: false, logger: silentLogger() });
    await sim.start();
    t.teardown(() => sim.stop());
    return new ExternalCabinet(sim);
  }

  attach(config: TestLocker['config']): void {
    const endpoints = this.sim.endpoints();
    for (const bus of config.hardware.map.buses) {
      const at = endpoints.get(bus.id)!;
      delete bus.path;
      bus.host = at.host;
      bus.port = at.port;
    }
  }
}
