import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/config/load.js';
import { systemClock } from '../../src/domain/clock.js';
import { silentLogger } from '../../src/log.js';
import { createSmsGateway } from '../../src/sms/gateway.js';
import { HttpSmsGateway } from '../../src/sms/http.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}
type Reply = { status: number; body?: unknown; delayMs?: number };

/** A provider on loopback answering from a script of replies (the last one repeats). */
async function provider(t: Test, script: Reply[]) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, at: Date.now() });
      const reply = script[Math.min(seen.length - 1, script.length - 1)];
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/MainService.svc/json/SendMultipleMessage_V4_post_json/` };
}

const BASE: Config['sms']['http'] = {
  url: 'http://127.0.0.1:1/',
  method: 'POST',
  contentType: 'application/json',
  headers: { 'X-Client': 'atm247' },
  auth: 'Bearer k3y-for-tests',
  bodyTemplate: '{"Phone":"{{to_local}}","Content":"{{text}}","Brandname":"{{brandname}}","SmsType":"2","RequestId":"{{id}}"}',
  successPath: 'CodeResult',
  successValue: '100',
  messageIdPath: 'SMSID',
  timeoutMs: 1_000,
  retries: 2,
  backoffMs: 100,
};

function gateway(url: string, over: Partial<Config['sms']['http']> = {}) {
  return new HttpSmsGateway({ ...BASE, url, ...over }, 'UBNDQ6', { logger: silentLogger(), clock: systemClock });
}

const msg = {
  id: 'b3f1c0de-0000-4000-8000-000000000001',
  to: '+84912345678',
  text: 'UBNDQ6: Ma xac thuc la 482913, "5 phut".',
  kind: 'otp',
};

t.test('success: the body template is rendered, the auth header sent, the provider id read', async (t) => {
  const p = await provider(t, [{ status: 200, body: { CodeResult: '100', SMSID: 'e7a1-42', CountRegenerate: 0 } }]);
  const gw = gateway(p.url);
  const result = await gw.send(msg);
  t.same(result, { providerMessageId: 'e7a1-42', segments: 1, encoding: 'GSM-7' });
  t.equal(p.seen.length, 1);
  const req = p.seen[0];
  t.equal(req.method, 'POST');
  t.equal(req.headers.authorization, 'Bearer k3y-for-tests');
  t.equal(req.headers['x-client'], 'atm247');
  t.match(req.headers['content-type'], /application\/json/);
  t.same(
    JSON.parse(req.body),
    {
      Phone: '0912345678',
      Content: msg.text,
      Brandname: 'UBNDQ6',
      SmsType: '2',
      RequestId: msg.id,
    },
    'JSON-escaped placeholders (the quotes in the text survive)',
  );
  t.same(gw.status(), { ok: true, detail: undefined });
});

t.test('form encoding and GET put the fields in the query string', async (t) => {
  const p = await provider(t, [{ status: 200, body: { result: { code: 0, id: 77 } } }]);
  const gw = gateway(p.url, {
    method: 'GET',
    contentType: 'application/x-www-form-urlencoded',
    bodyTemplate: 'to={{to}}&msg={{text}}&from={{brandname}}',
    successPath: 'result.code',
    successValue: '0',
    messageIdPath: 'result.id',
  });
  const result = await gw.send({ ...msg, text: 'Đã nhận hồ sơ K7M3-9P2X4 & cảm ơn' });
  t.equal(result.providerMessageId, '77');
  t.equal(result.encoding, 'UCS-2');
  const query = new URL(p.seen[0].url, 'http://x').searchParams;
  t.equal(p.seen[0].method, 'GET');
  t.equal(query.get('to'), '+84912345678');
  t.equal(query.get('msg'), 'Đã nhận hồ sơ K7M3-9P2X4 & cảm ơn');
  t.equal(query.get('from'), 'UBNDQ6');
});

t.test('a 500 then success is retried after the backoff', async (t) => {
  const p = await provider(t, [
    { status: 500, body: { error: 'busy' } },
    { status: 503 },
    { status: 200, body: { CodeResult: '100', SMSID: 'x9' } },
  ]);
  const gw = gateway(p.url);
  const result = await gw.send(msg);
  t.equal(result.providerMessageId, 'x9');
  t.equal(p.seen.length, 3);
  t.ok(p.seen[1].at - p.seen[0].at >= 95, `first backoff ~100 ms (${p.seen[1].at - p.seen[0].at})`);
  t.ok(p.seen[2].at - p.seen[1].at >= 195, `second backoff doubled ~200 ms (${p.seen[2].at - p.seen[1].at})`);
  t.same(
    gw.recentFailures().map((f) => f.status),
    [500, 503],
  );
  t.ok(gw.status().ok, 'ok again after a success');
});

t.test('a 400 is not retried and fails with SMS_FAILED', async (t) => {
  const p = await provider(t, [{ status: 400, body: { error: 'bad phone 0912345678' } }]);
  const gw = gateway(p.url);
  const err = await gw.send(msg).catch((e) => e);
  t.equal(err.code, 'SMS_FAILED');
  t.equal(err.status, 502);
  t.match(err.message, /HTTP 400/);
  t.equal(p.seen.length, 1, 'one attempt only');
  t.match(gw.status(), { ok: false, detail: /HTTP 400/ });
});

t.test('a provider code other than the success value fails without retry', async (t) => {
  const p = await provider(t, [{ status: 200, body: { CodeResult: '99', ErrorMessage: 'Phone 0912345678 invalid' } }]);
  const gw = gateway(p.url);
  const err = await gw.send(msg).catch((e) => e);
  t.equal(err.code, 'SMS_FAILED');
  t.match(err.message, /provider code 99/);
  t.equal(p.seen.length, 1);
});

t.test('a provider that does not answer in time: timeouts retried, then SMS_FAILED', async (t) => {
  const p = await provider(t, [{ status: 200, body: { CodeResult: '100' }, delayMs: 2_000 }]);
  const gw = gateway(p.url, { timeoutMs: 150, retries: 1, backoffMs: 10 });
  const started = Date.now();
  const err = await gw.send(msg).catch((e) => e);
  t.equal(err.code, 'SMS_FAILED');
  t.match(err.message, /no answer within 150 ms/);
  t.equal(p.seen.length, 2, 'tried twice');
  t.ok(Date.now() - started < 1_500, 'gave up without waiting for the slow answer');
});

t.test('an unreachable provider is a network error, retried', async (t) => {
  const closed = http.createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const gw = gateway(`http://127.0.0.1:${port}/send`, { retries: 1, backoffMs: 10 });
  const err = await gw.send(msg).catch((e) => e);
  t.equal(err.code, 'SMS_FAILED');
  t.match(err.message, /network error \(ECONNREFUSED\)/);
  t.equal(gw.recentFailures().length, 2);
});

t.test('recorded failures and errors hold neither the number nor the text', async (t) => {
  const p = await provider(t, [{ status: 500, body: { echo: msg.to } }, { status: 400 }]);
  const gw = gateway(p.url, { method: 'GET', contentType: 'application/x-www-form-urlencoded', bodyTemplate: 'to={{to}}&text={{text}}' });
  const err = await gw.send(msg).catch((e) => e);
  const bad = /912345678|0912|482913|Ma xac thuc/;
  for (const f of gw.recentFailures()) {
    t.notMatch(JSON.stringify(f), bad);
    t.type(f.at, 'string');
  }
  t.equal(gw.recentFailures().length, 2);
  t.notMatch(err.message, bad);
  t.notMatch(JSON.stringify(err.details ?? {}), bad);
  t.notMatch(gw.status().detail ?? '', bad);
});

t.test('the http gateway without a url does not start: the error names sms.http.url', async (t) => {
  const config = {
    gateway: 'http',
    brand: 'UBNDQ6',
    accented: false,
    counter: 'Bo phan Mot cua UBND Quan 6',
    http: { ...BASE, url: undefined },
    smpp: { port: 2775, systemType: '', enquireLinkMs: 30_000, submitTimeoutMs: 10_000, reconnectMs: 1000 },
  } as unknown as Config['sms'];
  const err = t.throws(() => createSmsGateway(config, { logger: silentLogger(), clock: systemClock })) as unknown;
  t.ok(err instanceof ConfigError);
  t.match((err as ConfigError).field, 'sms.http.url');
});
