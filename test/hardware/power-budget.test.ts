import t from 'tap';
import { PowerBudget, supplyBudgets } from '../../hardware/power-budget.js';
import { startCabinet } from '../helpers/hardware-harness.js';

t.test('a supply feeds floor((amps - reserve) / solenoid amps) solenoids at once', async (t) => {
  const base = { pulseMs: 500, pulseSpacingMs: 150 };
  t.match(supplyBudgets({ ...base, power: { solenoidAmps: 1, supplies: [{ id: 'psu', amps: 10, reserveAmps: 1.5 }] } }), [
    { id: 'psu', pulsesAtOnce: 8 },
  ]);
  t.match(supplyBudgets({ ...base, power: { solenoidAmps: 1.2, supplies: [{ id: 'psu', amps: 3.6 }] } }), [{ pulsesAtOnce: 3 }]);
  t.match(supplyBudgets({ ...base, maxConcurrentPulses: 2 }), [{ pulsesAtOnce: 2 }], 'without power: maxConcurrentPulses');
  t.match(supplyBudgets(base), [{ pulsesAtOnce: 1 }], 'and 1 without either');
  t.throws(() => supplyBudgets({ ...base, power: { solenoidAmps: 2, supplies: [{ id: 'small', amps: 2, reserveAmps: 0.5 }] } }), {
    code: 'CONFIG_INVALID',
    message: /supplies\[0\] \(small\)/,
  });
  const budget = new PowerBudget({
    ...base,
    power: {
      solenoidAmps: 1,
      supplies: [
        { id: 'psu-a', amps: 2, boards: ['a1'] },
        { id: 'psu-b', amps: 3, boards: ['b1'] },
      ],
    },
  });
  t.not(budget.limiterFor('a1'), budget.limiterFor('b1'));
  t.throws(() => budget.check(['a1', 'b1', 'b2']), { code: 'CONFIG_INVALID', message: /no supply feeds board b2/ });
});

t.test("pulses of one supply share its budget; another supply's locks do not wait for them", async (t) => {
  const cabinet = await startCabinet({
    pulseMs: 100,
    pulseSpacingMs: 0,
    power: {
      solenoidAmps: 1,
      supplies: [
        { id: 'psu-a', amps: 1.5, boards: ['a1', 'a2'] },
        { id: 'psu-b', amps: 2, boards: ['b1', 'b2', 'b3', 'b4'] },
      ],
    },
  });
  t.teardown(() => cabinet.stop());
  // psu-a feeds one solenoid at once, psu-b two.
  await Promise.all([1, 2, 31, 47, 63].map((tray) => cabinet.bus.unlock(tray)));
  const at = new Map(cabinet.simulator.pulses().map((p) => [p.tray, p.atMs]));
  t.ok(at.get(2)! - at.get(1)! >= 99, 'a second lock on psu-a waits for the first pulse');
  t.ok(Math.abs(at.get(31)! - at.get(1)!) < 50, 'a lock on psu-b does not wait for psu-a');
  t.ok(Math.abs(at.get(47)! - at.get(31)!) < 50, 'psu-b feeds two at once');
  t.ok(at.get(63)! - Math.min(at.get(31)!, at.get(47)!) >= 99, 'the third on psu-b waits');
});
