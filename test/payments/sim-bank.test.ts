/**
 * The simulated bank end to end on loopback: signed webhook notifications (retried, replayed,
 * or withheld), the bearer-protected transaction list, and the poller reading it.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { parseTransfers } from '../../src/payments/notifications.js';
import { TransferPoller } from '../../src/payments/poller.js';
import { checkSignature } from '../../src/payments/signature.js';
import { SimulatedBank } from '../../src/payments/sim-bank.js';
import type { IncomingTransfer } from '../../src/services/ports.js';

const SECRET = 'whsec-sim-7c1e';
const TOKEN = 'sim-token-42';

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  at: number;
}

/** A webhook receiver on loopback answering from a script of statuses (the last one repeats). */
async function receiver(t: Test, statuses: number[] = [200]) {
  const seen: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() });
      res.writeHead(statuses[Math.min(seen.length - 1, statuses.length - 1)]).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/payments` };
}

async function bank(t: Test, webhook: string | null = null) {
  const b = new SimulatedBank({ secret: SECRET, token: TOKEN, logger: silentLogger() });
  await b.start();
  b.setWebhook(webhook);
  t.teardown(() => b.stop());
  return b;
}

/** What a receiver saw, checked the way the daemon's webhook checks it. */
function verified(r: Received): IncomingTransfer[] {
  if (!checkSignature(SECRET, r.raw, r.headers['x-signature'] as string | undefined, Date.now() / 1000)) throw new Error('bad signature');
  return parseTransfers('simbank', JSON.parse(r.raw.toString()));
}

t.test('a transfer is booked and notified to the webhook, signed', async (t) => {
  const hook = await receiver(t);
  const b = await bank(t, hook.url);
  const before = Date.now();
  const { id } = b.transfer({ amount: 75_000, description: 'ATM7K3Q9P2X nop phi' });
  t.match(id, /^SIM[A-Z0-9]{12}$/);
  await b.settled();
  t.equal(hook.seen.length, 1);
  const r = hook.seen[0];
  t.match(r.headers['content-type'], /^application\/json/);
  t.match(r.headers['x-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  t.notOk(checkSignature('another-secret', r.raw, r.headers['x-signature'] as string, Date.now() / 1000), 'signed with the secret');
  const [tr] = verified(r);
  t.match(tr, { provider: 'simbank', providerTxId: id, amount: 75_000, description: 'ATM7K3Q9P2X nop phi' });
  t.ok(tr.bookedAt.getTime() >= before - 1 && tr.bookedAt.getTime() <= Date.now());
  t.same(
    b.list().map((x) => x.id),
    [id],
  );
  t.equal(b.provider, 'simbank');
});

t.test('a receiver answering 500 twice then 200 gets it on the 3rd try, after the backoff', async (t) => {
  const hook = await receiver(t, [500, 500, 200]);
  const b = await bank(t, hook.url);
  const { id } = b.transfer({ amount: 50_000, description: 'ATM7K3Q9P2X' });
  await b.settled();
  t.equal(hook.seen.length, 3);
  for (const r of hook.seen) t.equal(verified(r)[0].providerTxId, id, 'each try signed and carrying the transfer');
  t.ok(hook.seen[1].at - hook.seen[0].at >= 450, `~0.5 s before the 2nd try (${hook.seen[1].at - hook.seen[0].at})`);
  t.ok(hook.seen[2].at - hook.seen[1].at >= 950, `~1 s before the 3rd (${hook.seen[2].at - hook.seen[1].at})`);
});

t.test('notify: false books the transfer without a webhook call; the list shows it', async (t) => {
  const hook = await receiver(t);
  const b = await bank(t, hook.url);
  const { id } = b.transfer({ amount: 30_000, description: 'silent ATM7K3Q9P2X', notify: false });
  await b.settled();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(hook.seen.length, 0, 'the webhook stayed silent');
  t.same(
    b.list().map((x) => x.id),
    [id],
  );
  const res = await fetch(`${b.url}/transactions`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await res.json()) as { transactions: { id: string; amount: number }[] };
  t.same(
    body.transactions.map((x) => [x.id, x.amount]),
    [[id, 30_000]],
  );
});

t.test('a delayed transfer is notified after its delay and listed only once booked', async (t) => {
  const hook = await receiver(t);
  const b = await bank(t, hook.url);
  const started = Date.now();
  const { id } = b.transfer({ amount: 20_000, description: 'later', delayMs: 200 });
  const early = (await (await fetch(`${b.url}/transactions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
    transactions: unknown[];
  };
  t.same(early.transactions, [], 'not yet booked');
  await b.settled();
  t.equal(hook.seen.length, 1);
  t.ok(hook.seen[0].at - started >= 190, `notified after the delay (${hook.seen[0].at - started})`);
  t.equal(verified(hook.seen[0])[0].providerTxId, id);
});

t.test('redeliver posts the same transaction again', async (t) => {
  const hook = await receiver(t);
  const b = await bank(t, hook.url);
  const { id } = b.transfer({ amount: 50_000, description: 'ATM7K3Q9P2X' });
  await b.settled();
  b.redeliver(id);
  await b.settled();
  t.equal(hook.seen.length, 2);
  const [first, again] = hook.seen.map((r) => verified(r)[0]);
  t.same(again, first, 'same id, amount, text and booking time');
  t.throws(() => b.redeliver('SIMNOSUCHTX0000'), RangeError);
});

t.test('no webhook set: nothing is posted; stop() does not wait out a failing delivery', async (t) => {
  const b = await bank(t, null);
  b.transfer({ amount: 10_000, description: 'nobody listening' });
  await b.settled();
  t.equal(b.list().length, 1);

  const hook = await receiver(t, [500]);
  const b2 = new SimulatedBank({ secret: SECRET, token: TOKEN, logger: silentLogger() });
  await b2.start();
  b2.setWebhook(hook.url);
  b2.transfer({ amount: 10_000, description: 'failing' });
  while (hook.seen.length < 1) await new Promise((r) => setTimeout(r, 5));
  const stopping = Date.now();
  await b2.stop();
  t.ok(Date.now() - stopping < 300, 'the retry was abandoned');
  await b2.settled();
  t.equal(hook.seen.length, 1, 'no try after stop()');
});

t.test('/transactions requires the token, checks since, filters and orders by bookedAt', async (t) => {
  const b = await bank(t);
  const get = (query = '', token: string | null = TOKEN) =>
    fetch(`${b.url}/transactions${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  t.equal((await get('', null)).status, 401, 'no token');
  t.equal((await get('', 'wrong')).status, 401, 'wrong token');
  t.equal((await get('?since=yesterday')).status, 400, 'a bad since');
  t.equal((await fetch(`${b.url}/health`)).status, 200);

  const late = b.transfer({ amount: 3, description: 'booked last', delayMs: 150, notify: false }).id;
  const old = b.transfer({ amount: 1, description: 'old', notify: false }).id;
  await new Promise((r) => setTimeout(r, 20));
  const mark = new Date().toISOString();
  const recent = b.transfer({ amount: 2, description: 'recent', notify: false }).id;
  await new Promise((r) => setTimeout(r, 200));

  const all = (await (await get()).json()) as { transactions: { id: string }[] };
  t.same(
    all.transactions.map((x) => x.id),
    [old, recent, late],
    'in bookedAt order, not booking order',
  );
  const since = (await (await get(`?since=${encodeURIComponent(mark)}`)).json()) as { transactions: { id: string }[] };
  t.same(
    since.transactions.map((x) => x.id),
    [recent, late],
    'only those booked at or after since',
  );
  const exact = b.list().find((x) => x.id === recent)!.bookedAt;
  const atEdge = (await (await get(`?since=${encodeURIComponent(exact)}`)).json()) as { transactions: { id: string }[] };
  t.same(
    atEdge.transactions.map((x) => x.id),
    [recent, late],
    'since is inclusive',
  );
});

t.test('the poller pointed at the simulated bank picks up a silent transfer', async (t) => {
  const b = await bank(t);
  const { id } = b.transfer({ amount: 45_000, description: 'CT ATM7K3Q9P2X', notify: false });
  const got: IncomingTransfer[] = [];
  const poll = new TransferPoller({
    provider: b.provider,
    url: `${b.url}/transactions`,
    token: TOKEN,
    intervalMs: 60_000,
    logger: silentLogger(),
  });
  poll.start({
    async record(tr) {
      got.push(tr);
      return { outcome: 'matched', transferId: 'tr-1' };
    },
  });
  t.teardown(() => poll.stop());
  t.equal(await poll.pollOnce(), 1);
  t.match(got, [{ provider: 'simbank', providerTxId: id, amount: 45_000, description: 'CT ATM7K3Q9P2X' }]);

  const wrong = new TransferPoller({
    provider: 'simbank',
    url: `${b.url}/transactions`,
    token: 'nope',
    intervalMs: 60_000,
    logger: silentLogger(),
  });
  wrong.start({ record: async () => ({ outcome: 'matched', transferId: 'x' }) });
  t.teardown(() => wrong.stop());
  await t.rejects(wrong.pollOnce(), /HTTP 401/);
});
