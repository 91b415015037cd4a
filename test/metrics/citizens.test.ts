/**
 * The citizens' figures: codes issued, entered wrong and run out of tries, texts the gateway took
 * or failed, counted where the use cases see them (through the observer ports) and labelled by
 * purpose, gateway and kind of message. An SMS provider on loopback takes or refuses texts.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { MANY_REQUESTS, startTestLocker, type TestLocker } from '../helpers/controller.js';
import { depositProcedure } from '../helpers/citizens.js';
import { scraped, valueOf, type Exposition } from '../helpers/metrics.js';
import { until } from '../helpers/mqtt.js';

/** Takes texts (200 with the provider's success code) or refuses them (400, not retried), as told. */
async function provider(t: Test) {
  const state = { accept: true, texts: [] as string[] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (state.accept) state.texts.push(JSON.parse(body).Content);
      res.writeHead(state.accept ? 200 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state.accept ? { CodeResult: '100', SMSID: `m${state.texts.length}` } : { CodeResult: '99' }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/send` };
}

const scrape = async (locker: TestLocker): Promise<Exposition> => scraped(await locker.anonymous.get('/metrics'));

t.test('codes and texts', async (t) => {
  const sms = await provider(t);
  const locker = await startTestLocker(t, {
    http: { rateLimits: MANY_REQUESTS },
    sms: { gateway: 'http', http: { url: sms.url, retries: 0, timeoutMs: 2000 } },
  });
  const procedureCode = await depositProcedure(locker, 'S');
  const figure = (m: Exposition, name: string, labels: Record<string, string>) => valueOf(m, name, labels) ?? NaN;

  t.test('a code issued and texted; wrong entries; a code that runs out of tries, counted once', async (t) => {
    const res = await locker.anonymous.post('/api/deposits', { phone: '0914000001', procedureCode });
    t.equal(res.statusCode, 202, res.body);
    const id = res.json().challengeId as string;
    let m = await scrape(locker);
    t.equal(figure(m, 'atm247_otp_issued_total', { purpose: 'deposit' }), 1);
    t.equal(figure(m, 'atm247_otp_issued_total', { purpose: 'pickup' }), 0);
    t.equal(figure(m, 'atm247_sms_sent_total', { gateway: 'http', message: 'code' }), 1, 'texted by the http gateway');
    t.equal(figure(m, 'atm247_sms_failed_total', { gateway: 'http', message: 'code' }), 0);

    const code = /\b(\d{8})\b/.exec(sms.state.texts.at(-1)!)![1];
    const wrong = code === '00000000' ? '11111111' : '00000000';
    const verify = (otp: string) => locker.anonymous.post(`/api/deposits/${id}/verify`, { otp });
    t.equal((await verify('123')).json().error.code, 'VALIDATION_FAILED', 'a code of the wrong length costs no try');
    t.equal((await verify(wrong)).json().error.details.attemptsLeft, 2);
    m = await scrape(locker);
    t.equal(figure(m, 'atm247_otp_failed_total', { purpose: 'deposit' }), 1, 'one wrong entry, the short one not counted');
    t.equal(figure(m, 'atm247_otp_exhausted_total', { purpose: 'deposit' }), 0);
    await verify(wrong);
    t.equal((await verify(wrong)).json().error.details.attemptsLeft, 0);
    t.equal((await verify(code)).json().error.code, 'OTP_INVALID', 'the right code too late: refused, no try spent');
    m = await scrape(locker);
    t.equal(figure(m, 'atm247_otp_failed_total', { purpose: 'deposit' }), 3);
    t.equal(figure(m, 'atm247_otp_exhausted_total', { purpose: 'deposit' }), 1, 'the code ran out of tries once');
    t.equal(figure(m, 'atm247_otp_failed_total', { purpose: 'pickup' }), 0);
  });

  t.test('a resend is a code issued; a pickup code is counted under its purpose', async (t) => {
    const res = await locker.anonymous.post('/api/pickups', { phone: '0914000002' });
    t.equal(res.statusCode, 202, res.body);
    t.equal(figure(await scrape(locker), 'atm247_otp_issued_total', { purpose: 'pickup' }), 1);
    locker.controller.clock.advance(61_000);
    const again = await locker.anonymous.post(`/api/pickups/${res.json().challengeId}/resend`);
    t.equal(again.statusCode, 202, again.body);
    const m = await scrape(locker);
    t.equal(figure(m, 'atm247_otp_issued_total', { purpose: 'pickup' }), 2);
    t.equal(figure(m, 'atm247_otp_issued_total', { purpose: 'deposit' }), 1, 'the deposit figure unmoved');
    // Pickup codes are texted in the background: counted once the provider took them.
    await until(
      async () => figure(await scrape(locker), 'atm247_sms_sent_total', { gateway: 'http', message: 'code' }) === 3,
      'both pickup texts counted as sent',
    );
  });

  t.test('texts the provider refuses are counted as failed, by gateway and kind', async (t) => {
    sms.state.accept = false;
    t.teardown(() => void (sms.state.accept = true));
    const before = await scrape(locker);
    const res = await locker.anonymous.post('/api/deposits', { phone: '0914000003', procedureCode });
    t.equal(res.json().error?.code, 'SMS_FAILED', res.body);
    const after = await scrape(locker);
    const delta = (name: string, labels: Record<string, string>) => figure(after, name, labels) - figure(before, name, labels);
    t.equal(delta('atm247_sms_failed_total', { gateway: 'http', message: 'code' }), 1);
    t.equal(delta('atm247_sms_sent_total', { gateway: 'http', message: 'code' }), 0);
    t.equal(delta('atm247_otp_issued_total', { purpose: 'deposit' }), 1, 'the code was issued, its text failed');
  });
});
