/**
 * The polling fallback against a provider on loopback: what it asks for (bearer, since), what it
 * hands the sink, how the cursor moves, and how failures are counted, backed off and survived.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { TransferPoller } from '../../src/payments/poller.js';
import type { IncomingTransfer, TransferSink } from '../../src/services/ports.js';

interface Seen {
  url: URL;
  headers: http.IncomingHttpHeaders;
  at: number;
}
type Reply = { status: number; body?: unknown; raw?: string; delayMs?: number };

/** A provider on loopback answering from a script of replies (the last one repeats). */
async function provider(t: Test, script: Reply[]) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: new URL(req.url!, 'http://x'), headers: req.headers, at: Date.now() });
    const reply = script[Math.min(seen.length - 1, script.length - 1)];
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs);
    else send();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/transactions` };
}

/** A sink double: records what it is handed; refuses the ids in `failOn` while they are there. */
function sinkDouble() {
  const got: IncomingTransfer[] = [];
  const failOn = new Set<string>();
  const sink: TransferSink = {
    async record(tr) {
      if (failOn.has(tr.providerTxId)) throw new Error('database unavailable');
      got.push(tr);
      return { outcome: 'unmatched', transferId: `tr-${got.length}` };
    },
  };
  return { sink, got, failOn };
}

const NOW = new Date('2025-03-01T08:00:00.000Z');
const tx = (id: string, bookedAt: string, amount = 50_000) => ({ id, amount, description: `CT ATM7K3Q9P2X ${id}`, bookedAt });

function poller(url: string, over: Partial<ConstructorParameters<typeof TransferPoller>[0]> = {}) {
  return new TransferPoller({
    provider: 'vcb',
    url,
    token: 'tok-123',
    intervalMs: 60_000,
    logger: silentLogger(),
    now: () => NOW,
    ...over,
  });
}

t.test('a poll sends the bearer and since, and hands every transfer to the sink', async (t) => {
  const p = await provider(t, [
    { status: 200, body: { transactions: [tx('A1', '2025-03-01T07:55:00Z'), tx('A2', '2025-03-01T07:58:00Z', 120_000)] } },
  ]);
  const { sink, got } = sinkDouble();
  const poll = poller(p.url);
  poll.start(sink);
  t.teardown(() => poll.stop());
  t.equal(await poll.pollOnce(), 2);
  t.equal(p.seen.length, 1);
  t.equal(p.seen[0].headers.authorization, 'Bearer tok-123');
  t.equal(p.seen[0].url.pathname, '/api/v1/transactions');
  t.equal(p.seen[0].url.searchParams.get('since'), '2025-03-01T07:50:00.000Z', 'the first poll looks back the overlap (10 min)');
  t.same(
    got.map((g) => [g.provider, g.providerTxId, g.amount]),
    [
      ['vcb', 'A1', 50_000],
      ['vcb', 'A2', 120_000],
    ],
  );
  t.same(got[1].bookedAt, new Date('2025-03-01T07:58:00Z'));
  t.same(poll.status(), { ok: true, lastPollAt: NOW.toISOString() });
});

t.test('the cursor moves to the newest transfer minus the overlap, never backwards', async (t) => {
  const p = await provider(t, [
    { status: 200, body: { transactions: [tx('B2', '2025-03-01T09:30:00Z'), tx('B1', '2025-03-01T09:00:00Z')] } },
    { status: 200, body: { transactions: [tx('B0', '2025-03-01T09:10:00Z')] } },
    { status: 200, body: { transactions: [] } },
    { status: 200, body: { transactions: [] } },
  ]);
  const { sink, got } = sinkDouble();
  const poll = poller(p.url, { overlapMs: 5 * 60_000, since: new Date('2025-03-01T06:00:00Z') });
  poll.start(sink);
  t.teardown(() => poll.stop());
  t.equal(await poll.pollOnce(), 2);
  t.equal(p.seen[0].url.searchParams.get('since'), '2025-03-01T06:00:00.000Z', 'the since given in the options');
  t.equal(poll.since?.toISOString(), '2025-03-01T09:25:00.000Z', 'newest (not last) bookedAt minus 5 min');
  t.equal(await poll.pollOnce(), 1);
  t.equal(p.seen[1].url.searchParams.get('since'), '2025-03-01T09:25:00.000Z');
  t.equal(poll.since?.toISOString(), '2025-03-01T09:25:00.000Z', 'an older transfer does not move it back');
  t.equal(await poll.pollOnce(), 0, 'an empty list is a quiet window, not an error');
  t.equal(poll.since?.toISOString(), '2025-03-01T09:25:00.000Z');
  t.equal(p.seen[2].url.searchParams.get('since'), '2025-03-01T09:25:00.000Z');
  t.equal(got.length, 3);
  t.ok(poll.status().ok);
  t.equal(poll.failureCount, 0);
});

t.test('failures are counted, rethrown by pollOnce, and make the status not ok after 3', async (t) => {
  const p = await provider(t, [
    { status: 500, body: { error: 'busy' } },
    { status: 200, raw: '<html>maintenance</html>' },
    { status: 200, body: { transactions: 'none' } },
    { status: 401, body: { error: 'token' } },
    { status: 200, body: { transactions: [tx('C2', '2025-03-01T07:56:00Z')] } },
  ]);
  const { sink, got } = sinkDouble();
  const poll = poller(p.url);
  poll.start(sink);
  t.teardown(() => poll.stop());

  await t.rejects(poll.pollOnce(), /HTTP 500/);
  t.match(poll.status(), { ok: true, detail: /1 failed poll.*HTTP 500/ });
  await t.rejects(poll.pollOnce(), /not JSON/);
  t.equal(poll.status().ok, true, 'two in a row: still ok');
  await t.rejects(poll.pollOnce(), { code: 'PAYMENT_NOTIFICATION_INVALID' });
  t.match(poll.status(), { ok: false, detail: /3 failed poll/ });
  t.notOk(poll.status().lastPollAt, 'no poll has succeeded yet');
  await t.rejects(poll.pollOnce(), /HTTP 401/);
  t.equal(poll.failureCount, 4);
  t.equal(got.length, 0, 'nothing of an invalid page was handed over');
  t.equal(poll.since?.toISOString(), '2025-03-01T07:50:00.000Z', 'the cursor stayed');

  t.equal(await poll.pollOnce(), 1);
  t.same(poll.status(), { ok: true, lastPollAt: NOW.toISOString() }, 'a success makes it ok again');
  t.equal(poll.failureCount, 4, 'the total is kept');
});

t.test('an unreachable provider is a network error, without the URL or the token in it', async (t) => {
  const closed = http.createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const poll = poller(`http://127.0.0.1:${port}/tx`);
  poll.start(sinkDouble().sink);
  t.teardown(() => poll.stop());
  const err = (await poll.pollOnce().catch((e) => e)) as Error;
  t.match(err.message, /network error \(ECONNREFUSED\)/);
  t.notMatch(poll.status().detail ?? '', /tok-123|127\.0\.0\.1/);
  t.equal(poll.failureCount, 1);
});

t.test('a sink failure leaves the cursor: the next poll hands the same transfer again', async (t) => {
  const page = { transactions: [tx('D1', '2025-03-01T07:52:00Z'), tx('D2', '2025-03-01T07:59:00Z')] };
  const p = await provider(t, [{ status: 200, body: page }]);
  const { sink, got, failOn } = sinkDouble();
  const poll = poller(p.url, { overlapMs: 60_000, since: new Date('2025-03-01T07:00:00Z') });
  poll.start(sink);
  t.teardown(() => poll.stop());
  failOn.add('D2');
  await t.rejects(poll.pollOnce(), /database unavailable/);
  t.same(
    got.map((g) => g.providerTxId),
    ['D1'],
  );
  t.equal(poll.since?.toISOString(), '2025-03-01T07:00:00.000Z', 'not moved past D1: D2 was not recorded');
  t.equal(poll.failureCount, 1);
  failOn.clear();
  t.equal(await poll.pollOnce(), 2);
  t.equal(p.seen[1].url.searchParams.get('since'), '2025-03-01T07:00:00.000Z', 'the same window asked again');
  t.same(
    got.map((g) => g.providerTxId),
    ['D1', 'D1', 'D2'],
    'D2 handed over this time (D1 again too: the sink is idempotent)',
  );
  t.equal(poll.since?.toISOString(), '2025-03-01T07:58:00.000Z', 'moved to D2 minus the overlap');
});

t.test('the timer polls every interval and stop() waits for the poll in flight', async (t) => {
  const p = await provider(t, [
    { status: 200, body: { transactions: [tx('E1', '2025-03-01T07:55:00Z')] } },
    { status: 200, body: { transactions: [tx('E2', '2025-03-01T07:56:00Z')] }, delayMs: 150 },
  ]);
  const { sink, got } = sinkDouble();
  const poll = poller(p.url, { intervalMs: 40 });
  poll.start(sink);
  while (p.seen.length < 2) await new Promise((r) => setTimeout(r, 5));
  t.equal(got.length, 1, 'the second poll is still waiting for its answer');
  await poll.stop();
  t.same(
    got.map((g) => g.providerTxId),
    ['E1', 'E2'],
    'stop() returned after the poll in flight handed its transfer over',
  );
  const count = p.seen.length;
  await new Promise((r) => setTimeout(r, 120));
  t.equal(p.seen.length, count, 'no poll after stop()');
  t.ok(p.seen[1].at - p.seen[0].at >= 35, 'one interval between polls');
});

t.test('failing polls back off, doubling, and never throw out of the timer', async (t) => {
  const p = await provider(t, [{ status: 503 }]);
  const poll = poller(p.url, { intervalMs: 25 });
  poll.start(sinkDouble().sink);
  t.teardown(() => poll.stop());
  while (p.seen.length < 4) await new Promise((r) => setTimeout(r, 5));
  await poll.stop();
  const gaps = p.seen.slice(1).map((s, i) => s.at - p.seen[i].at);
  t.ok(gaps[0] >= 45, `after 1 failure ~50 ms (${gaps[0]})`);
  t.ok(gaps[1] >= 95, `after 2 failures ~100 ms (${gaps[1]})`);
  t.ok(gaps[2] >= 195, `after 3 failures ~200 ms (${gaps[2]})`);
  t.equal(poll.status().ok, false);
  t.ok(poll.failureCount >= 4);
});

t.test('an unreadable item of the list is left out and said; the others are recorded and the cursor moves', async (t) => {
  const p = await provider(t, [
    {
      status: 200,
      body: {
        transactions: [
          tx('D1', '2025-03-01T07:55:00Z'),
          { id: 'D2', amount: -1, description: '', bookedAt: '2025-03-01T07:56:00Z' },
          { id: 'D3', amount: 5000 },
          tx('D4', '2025-03-01T08:20:00Z'),
        ],
      },
    },
  ]);
  const { sink, got } = sinkDouble();
  const poll = poller(p.url);
  poll.start(sink);
  t.teardown(() => poll.stop());
  t.equal(await poll.pollOnce(), 2, 'two handed over');
  t.same(
    got.map((g) => g.providerTxId),
    ['D1', 'D4'],
  );
  t.ok(poll.status().ok, 'not a failed poll');
  t.equal(poll.failureCount, 0);
  t.equal(poll.since?.toISOString(), '2025-03-01T08:10:00.000Z', 'the cursor moved to the newest readable one, minus the overlap');
});
