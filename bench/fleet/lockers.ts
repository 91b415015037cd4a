/**
 * The load generator of bench/fleet-load.ts, in a process of its own (started with `fork`, driven
 * over IPC): N simulated lockers, one mqtt.js client each, as a cabinet controller connects
 * (src/events/mqtt-link.ts: client id `atm247-<lockerId>`, MQTT 3.1.1, persistent session, QoS 1,
 * a retained last will `offline` on `availability`), publishing the topic contract
 * (docs/mqtt.md) in each locker's order.
 *
 * Every publish's `at` is the moment it is handed to the client (made strictly increasing per
 * locker), so the bench can tell when the dashboard shows it. What was published is kept in a log
 * the parent asks for at the end: every event id, every `occupancy` (the summary's `stateAt`), the
 * drops and returns.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { EventPayload, EventType } from '../../src/domain/events.js';
import { FLOWS, type Command, type Counters, type Flow, type PublishLog, type Report, type TrafficPlan } from './protocol.js';
import { dossierCode, envelope, newTrays, occupancy, procedure, roundNext, tray, type SimRound, type SimTray } from './payloads.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const between = (min: number, max: number) => min + Math.random() * (max - min);
const OFFICER = 'officer:7:Tran Thi B';
const ADMIN = 'admin:1:Le Van C';

const counters: Counters = {
  sent: { state: 0, availability: 0, event: 0 },
  acked: { state: 0, availability: 0, event: 0 },
  errors: 0,
  drops: 0,
  returns: 0,
};
const log: PublishLog = {
  lockerIds: [],
  states: { locker: [], at: [], flow: [] },
  events: { id: [], locker: [], at: [], flow: [], acked: [] },
  online: [],
  drops: { locker: [], at: [], back: [] },
  counters,
};
const send = (report: Report) => process.send!(report);

class Locker {
  readonly id: string;
  client: MqttClient | undefined;
  readonly trays: SimTray[] = newTrays();
  /** Retained payloads as last published: sent again after a reconnect, as RetainedState does. */
  readonly retained = new Map<string, string>();
  online = false;
  started = false;
  away = false;
  inRound = false;
  /** Messages not acknowledged yet. */
  inflight = 0;
  /** Flows queued or running: they run one after another, as one controller's do. */
  busy = 0;
  private chain: Promise<void> = Promise.resolve();
  private lastAt = 0;
  private base = '';
  round!: SimRound;

  constructor(readonly index: number) {
    this.id = `bench-${String(index + 1).padStart(4, '0')}`;
    // What the locker holds when the run starts: a few deposits and results, sometimes a tray out of service.
    for (const t of this.trays) {
      const r = Math.random();
      if (r < 0.03) Object.assign(t, { state: 'holding_deposit', dossierCode: dossierCode(), depositedAt: new Date().toISOString() });
      else if (r < 0.08) Object.assign(t, { state: 'holding_result', dossierCode: dossierCode() });
    }
    if (Math.random() < 0.2)
      Object.assign(pick(this.trays.filter((t) => t.state === 'free')), { state: 'out_of_service', door: 'unknown' });
  }

  /** A fresh `at`: now, strictly after this locker's previous one. */
  private stamp(): { ms: number; iso: string } {
    const ms = Math.max(Date.now(), this.lastAt + 1);
    this.lastAt = ms;
    return { ms, iso: new Date(ms).toISOString() };
  }

  private raw(topic: string, body: string, retain: boolean, kind: keyof Counters['sent'], done?: (ok: boolean) => void): void {
    const client = this.client!;
    counters.sent[kind] += 1;
    this.inflight += 1;
    if (retain) this.retained.set(topic, body);
    client.publish(`${this.base}/${topic}`, body, { qos: 1, retain }, (err) => {
      this.inflight -= 1;
      if (err) counters.errors += 1;
      else counters.acked[kind] += 1;
      done?.(!err);
    });
  }

  event<K extends EventType>(type: K, data: EventPayload<K>, flow: Flow): void {
    const { ms, iso } = this.stamp();
    const e = envelope(this.id, type, iso, data);
    const n = log.events.id.length;
    log.events.id.push(e.id);
    log.events.locker.push(this.index);
    log.events.at.push(ms);
    log.events.flow.push(FLOWS.indexOf(flow));
    log.events.acked.push(false);
    this.raw(`events/${type}`, JSON.stringify(e), false, 'event', (ok) => (log.events.acked[n] = ok));
  }

  /** `occupancy` (logged: the summary's `stateAt` shows it), after the trays that changed. */
  state(flow: Flow, changed: number[], withRound = false): void {
    const { ms, iso } = this.stamp();
    for (const n of changed) this.raw(`trays/${n}`, JSON.stringify(tray(this.trays[n - 1], iso)), true, 'state');
    if (withRound) this.raw('rounds/next', JSON.stringify(roundNext(this.round, this.trays, iso)), true, 'state');
    this.raw('occupancy', JSON.stringify(occupancy(this.trays, iso)), true, 'state');
    log.states.locker.push(this.index);
    log.states.at.push(ms);
    log.states.flow.push(FLOWS.indexOf(flow));
  }

  private publishRound(): void {
    this.raw('rounds/next', JSON.stringify(roundNext(this.round, this.trays, this.stamp().iso)), true, 'state');
  }

  /** Connects; resolves once its start-up messages are all acknowledged. */
  connect(url: string, base: string, firstRoundAt: string): Promise<void> {
    this.base = `${base}/${this.id}`;
    this.round = { id: randomUUID(), scheduledAt: firstRoundAt, status: 'upcoming', drawnAt: null, startedAt: null, items: [] };
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(url, {
        clientId: `atm247-${this.id}`,
        protocolVersion: 4,
        clean: false,
        keepalive: 30,
        // Reconnects are the benchmark's to decide (a drop lasts as long as it says).
        reconnectPeriod: 0,
        connectTimeout: 60_000,
        will: { topic: `${this.base}/availability`, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      this.client = client;
      client.on('connect', () => {
        this.online = true;
        const first = !this.started;
        this.started = true;
        // `online` first, as the link writes it before anything else hears of the connection.
        const at = Date.now();
        this.raw('availability', 'online', true, 'availability');
        if (first) {
          log.online[this.index] = at;
          this.event('locker.started', { version: '0.1.0', trays: this.trays.length, boardsOffline: [] }, 'connect');
          this.state(
            'connect',
            this.trays.map((t) => t.number),
            true,
          );
          const waitAcks = () => (this.inflight === 0 ? resolve() : setTimeout(waitAcks, 20));
          waitAcks();
        } else {
          // A return: what the locker had published, again (its retained state, unchanged `at`).
          for (const [topic, body] of this.retained) if (topic !== 'availability') this.raw(topic, body, true, 'state');
          const i = log.drops.locker.lastIndexOf(this.index);
          if (i >= 0) log.drops.back[i] = at;
          counters.returns += 1;
          this.away = false;
        }
      });
      client.on('close', () => {
        this.online = false;
      });
      client.on('error', (err) => {
        counters.errors += 1;
        if (!this.started) reject(err);
      });
    });
  }

  /** Runs `fn` after this locker's earlier flows. */
  queue(fn: () => Promise<void>): void {
    this.busy += 1;
    this.chain = this.chain
      .then(() => (this.online ? fn() : undefined))
      .catch((err: unknown) => {
        send({ ev: 'error', message: `${this.id}: ${(err as Error).message}` });
      })
      .finally(() => {
        this.busy -= 1;
      });
  }

  /** Socket destroyed without DISCONNECT: the broker publishes the will. Back after `downMs`. */
  drop(downMs: number): void {
    this.away = true;
    this.online = false;
    counters.drops += 1;
    log.drops.locker.push(this.index);
    log.drops.at.push(Date.now());
    log.drops.back.push(0);
    this.client!.stream.destroy();
    setTimeout(() => this.client!.reconnect(), downMs);
  }

  async deposit(stepMs: number): Promise<void> {
    const free = this.trays.filter((t) => t.state === 'free');
    if (!free.length) return;
    const t = pick(free);
    const code = dossierCode();
    const data = { depositId: randomUUID(), dossierCode: code, tray: t.number, procedureCode: procedure(t.number) };
    this.event('deposit.opened', data, 'deposit');
    await sleep(stepMs);
    t.door = 'open';
    this.event('tray.door_opened', { tray: t.number }, 'deposit');
    await sleep(stepMs);
    t.door = 'closed';
    this.event('tray.door_closed', { tray: t.number }, 'deposit');
    Object.assign(t, { state: 'holding_deposit', dossierCode: code, depositedAt: new Date().toISOString() });
    this.event('deposit.completed', data, 'deposit');
    this.state('deposit', [t.number]);
  }

  async loadResult(stepMs: number): Promise<void> {
    const free = this.trays.filter((t) => t.state === 'free');
    if (!free.length) return;
    const t = pick(free);
    const code = dossierCode();
    this.event('tray.opened', { tray: t.number, reason: 'load_result', by: OFFICER, dossierCode: code }, 'result');
    await sleep(stepMs);
    t.door = 'open';
    this.event('tray.door_opened', { tray: t.number }, 'result');
    await sleep(stepMs);
    t.door = 'closed';
    this.event('tray.door_closed', { tray: t.number }, 'result');
    Object.assign(t, { state: 'holding_result', dossierCode: code });
    const pickupDeadline = new Date(Date.now() + 7 * 86_400_000).toISOString();
    this.event(
      'result.loaded',
      { resultId: randomUUID(), dossierCode: code, tray: t.number, procedureCode: procedure(t.number), pickupDeadline },
      'result',
    );
    this.state('result', [t.number]);
  }

  async pickup(stepMs: number): Promise<void> {
    const held = this.trays.filter((t) => t.state === 'holding_result');
    if (!held.length) return this.loadResult(stepMs);
    const t = pick(held);
    const code = t.dossierCode!;
    this.event('pickup.opened', { trays: [t.number], dossierCodes: [code] }, 'pickup');
    await sleep(stepMs);
    t.door = 'open';
    this.event('tray.door_opened', { tray: t.number }, 'pickup');
    await sleep(stepMs);
    t.door = 'closed';
    this.event('tray.door_closed', { tray: t.number }, 'pickup');
    Object.assign(t, { state: 'free', dossierCode: null });
    this.event('pickup.completed', { dossierCode: code, tray: t.number, procedureCode: procedure(t.number) }, 'pickup');
    this.state('pickup', [t.number]);
  }

  /** A door opened and closed outside a flow: maintenance, or (unexpected) forced or a latch that failed. */
  async door(stepMs: number, unexpected: boolean): Promise<void> {
    const t = pick(this.trays.filter((t) => t.state !== 'out_of_service'));
    if (unexpected) {
      const content = t.state === 'out_of_service' ? 'free' : t.state;
      this.event('alarm.door_open_unexpected', { tray: t.number, content }, 'door');
    } else {
      this.event('tray.opened', { tray: t.number, reason: 'maintenance', by: ADMIN }, 'door');
    }
    t.door = 'open';
    this.event('tray.door_opened', { tray: t.number }, 'door');
    this.state('door', [t.number]);
    await sleep(stepMs * 2);
    t.door = 'closed';
    this.event('tray.door_closed', { tray: t.number }, 'door');
    this.state('door', [t.number]);
  }

  /** The manifest drawn, its lead time before the round. */
  async due(): Promise<void> {
    const { iso } = this.stamp();
    const items = this.trays.filter((t) => t.state === 'holding_deposit');
    Object.assign(this.round, {
      status: 'due',
      drawnAt: iso,
      items: items.map((t) => ({ tray: t.number, dossierCode: t.dossierCode!, depositedAt: t.depositedAt, status: 'pending' })),
    });
    this.event(
      'round.due',
      {
        roundId: this.round.id,
        scheduledAt: this.round.scheduledAt,
        collect: items.length,
        takeBack: 0,
        check: 0,
        trays: items.map((t) => t.number),
      },
      'round',
    );
    this.publishRound();
  }

  /** The officer's round: start (every tray on it released), each tray emptied and confirmed, complete. */
  async doRound(stepMs: number, nextRoundAt: string): Promise<void> {
    this.inRound = true;
    try {
      const round = this.round;
      if (round.status === 'upcoming') await this.due();
      round.status = 'running';
      round.startedAt = this.stamp().iso;
      this.event('round.started', { roundId: round.id, by: OFFICER, oneAtATime: false }, 'round');
      for (const item of round.items) {
        item.status = 'opened';
        this.event(
          'tray.opened',
          { tray: item.tray, reason: 'round', by: OFFICER, dossierCode: item.dossierCode, roundId: round.id },
          'round',
        );
      }
      this.publishRound();
      for (const item of round.items) {
        await sleep(stepMs);
        const t = this.trays[item.tray - 1];
        t.door = 'open';
        this.event('tray.door_opened', { tray: t.number }, 'round');
        await sleep(stepMs);
        t.door = 'closed';
        this.event('tray.door_closed', { tray: t.number }, 'round');
        Object.assign(t, { state: 'free', dossierCode: null, depositedAt: null });
        item.status = 'collected';
        this.event('item.collected', { roundId: round.id, dossierCode: item.dossierCode, tray: t.number, by: OFFICER }, 'round');
        this.state('round', [t.number], true);
      }
      await sleep(stepMs);
      const collected = round.items.length;
      this.event(
        'round.completed',
        { roundId: round.id, by: OFFICER, counts: { collected, returned: 0, missing: 0, leftInPlace: 0 } },
        'round',
      );
      this.round = { id: randomUUID(), scheduledAt: nextRoundAt, status: 'upcoming', drawnAt: null, startedAt: null, items: [] };
      this.state('round', [], true);
    } finally {
      this.inRound = false;
    }
  }
}

let lockers: Locker[] = [];
let baseTopic = 'atm247';

async function connectAll(url: string, base: string, n: number, rampMs: number): Promise<void> {
  baseTopic = base;
  lockers = Array.from({ length: n }, (_, i) => new Locker(i));
  log.lockerIds = lockers.map((l) => l.id);
  const firstMs = Date.now();
  const firstRoundAt = new Date(firstMs + 3_600_000).toISOString();
  await Promise.all(
    lockers.map(async (l, i) => {
      await sleep((rampMs * i) / n);
      await l.connect(url, baseTopic, firstRoundAt);
    }),
  );
  send({ ev: 'connected', firstMs, lastAckMs: Date.now(), counters });
}

async function traffic(plan: TrafficPlan): Promise<void> {
  const t0 = Date.now();
  const end = t0 + plan.seconds * 1000;
  const ops: Record<Flow, number> = { connect: 0, deposit: 0, result: 0, pickup: 0, door: 0, round: 0 };
  const roundTimes = plan.roundsAtMs.map((off) => t0 + off);
  const scheduledAt = (k: number) => new Date(roundTimes[k] ?? end + 3_600_000).toISOString();
  for (const l of lockers) l.round.scheduledAt = scheduledAt(0);
  const timers: NodeJS.Timeout[] = [];
  roundTimes.forEach((at, k) => {
    timers.push(
      setTimeout(
        () => {
          for (const l of lockers) if (l.online) l.queue(() => l.due());
        },
        Math.max(0, at - plan.dueLeadMs - Date.now()),
      ),
      setTimeout(
        () => {
          for (const l of lockers) {
            if (!l.online) continue;
            ops.round += 1;
            l.queue(() => l.doRound(plan.roundStepMs, scheduledAt(k + 1)));
          }
        },
        Math.max(0, at - Date.now()),
      ),
    );
  });
  const online = () => lockers.filter((l) => l.online && !l.away);
  let opAcc = 0;
  let doorAcc = 0;
  let lastTick = Date.now();
  let nextDrop = t0 + plan.dropEveryMs;
  while (Date.now() < end) {
    await sleep(10);
    const now = Date.now();
    const dt = (now - lastTick) / 1000;
    lastTick = now;
    opAcc += plan.rate * dt;
    doorAcc += plan.doorRate * dt;
    const up = online();
    if (!up.length) continue;
    for (; opAcc >= 1; opAcc -= 1) {
      const l = pick(up);
      const r = Math.random();
      const flow: Flow = r < 0.5 ? 'deposit' : r < 0.75 ? 'result' : 'pickup';
      ops[flow] += 1;
      l.queue(() => (flow === 'deposit' ? l.deposit(plan.stepMs) : flow === 'result' ? l.loadResult(plan.stepMs) : l.pickup(plan.stepMs)));
    }
    for (; doorAcc >= 1; doorAcc -= 1) {
      const l = pick(up);
      ops.door += 1;
      const unexpected = Math.random() < 0.25;
      l.queue(() => l.door(plan.stepMs, unexpected));
    }
    if (plan.dropEveryMs > 0 && now >= nextDrop) {
      nextDrop += plan.dropEveryMs;
      // Only a locker with nothing in flight: what a real one had not had acknowledged it would send again.
      const idle = up.filter((l) => l.busy === 0 && l.inflight === 0 && !l.inRound);
      if (idle.length) pick(idle).drop(between(plan.downMs[0], plan.downMs[1]));
    }
  }
  for (const t of timers) clearTimeout(t);
  // The flows under way finish; the lockers that dropped come back.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(50)) {
    if (lockers.every((l) => l.busy === 0 && l.inflight === 0 && !l.away)) break;
  }
  send({ ev: 'trafficDone', lastPublishMs: Date.now(), counters, ops });
}

async function stopAll(): Promise<void> {
  await Promise.all(lockers.map((l) => l.client?.endAsync(true).catch(() => undefined)));
}

const progress = setInterval(() => send({ ev: 'progress', counters }), 500);
progress.unref();

process.on('message', (message: Command) => {
  const run = async () => {
    switch (message.cmd) {
      case 'connect':
        return connectAll(message.url, message.base, message.lockers, message.rampMs);
      case 'traffic':
        return traffic(message.plan);
      case 'log':
        return send({ ev: 'log', log });
      case 'stop':
        await stopAll();
        process.exit(0);
    }
  };
  run().catch((err: unknown) => send({ ev: 'error', message: (err as Error).stack ?? String(err) }));
});
process.on('disconnect', () => process.exit(0));
