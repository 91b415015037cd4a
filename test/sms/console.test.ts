import { Writable } from 'node:stream';
import t from 'tap';
import type { Config } from '../../src/config/types.js';
import { OffsetClock } from '../../src/domain/clock.js';
import { renderSms } from '../../src/domain/sms-text.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { ConsoleSmsGateway } from '../../src/sms/console.js';
import { createSmsGateway, maskNumber, maskText } from '../../src/sms/gateway.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }).child({ module: 'sms' }) };
}

const at = new Date('2025-03-12T14:45:00Z');

t.test('the console gateway keeps an inbox with the full text for the simulator', async (t) => {
  const clock = new OffsetClock({ now: () => at });
  const gw = new ConsoleSmsGateway({ logger: silentLogger(), clock });
  await gw.start();
  const text = renderSms('otp', { code: '482913', minutes: 5 }, { brand: 'UBNDQ6' });
  const result = await gw.send({ id: 's1', to: '+84912345678', text, kind: 'otp' });
  t.same(result, { providerMessageId: 'console-s1', segments: 1, encoding: 'GSM-7' });
  t.same(gw.inbox(), [{ id: 's1', to: '+84912345678', text, kind: 'otp', at, segments: 1, encoding: 'GSM-7' }]);
  t.match(gw.inbox()[0].text, /482913/, 'the demo user can read the code');
  t.same(gw.status(), { ok: true, detail: 'console: texts are not sent, only listed' });
  await gw.stop();
});

t.test('the inbox keeps the last 200 texts, oldest first', async (t) => {
  const gw = new ConsoleSmsGateway({ logger: silentLogger(), clock: new OffsetClock() });
  for (let i = 0; i < 205; i++) await gw.send({ id: `m${i}`, to: '+84912345678', text: `n ${i}`, kind: 'test' });
  const inbox = gw.inbox();
  t.equal(inbox.length, 200);
  t.equal(inbox[0].id, 'm5');
  t.equal(inbox.at(-1)!.id, 'm204');
});

t.test('one log line per text, with the number masked and no code or number in it', async (t) => {
  const { lines, logger } = capture();
  const gw = createSmsGateway({ gateway: 'console', brand: 'UBNDQ6' } as Config['sms'], { logger, clock: new OffsetClock() });
  t.equal(gw.kind, 'console');
  const texts = [
    renderSms('otp', { code: '482913', minutes: 5 }, { brand: 'UBNDQ6' }),
    renderSms('deposit_receipt', { dossierCode: 'K7M3-9P2X4', procedure: 'Khai sinh', at }, { brand: 'UBNDQ6' }),
    'Goi lai 0912345678 hoac 02838551234, ma 12345678',
  ];
  for (const [i, text] of texts.entries()) await gw.send({ id: `s${i}`, to: '+84912345678', text, kind: 'test' });
  t.equal(lines.length, 3, 'one line per message');
  for (const line of lines) {
    const entry = JSON.parse(line);
    const { time: _time, ...fields } = entry; // pino's epoch-ms timestamp is the only number allowed
    t.notMatch(JSON.stringify(fields), /\d{4,}/, 'no run of 4 or more digits');
    t.notMatch(line, /912345678|0912/, 'no phone number');
    t.equal(entry.to, '+84*****678');
    t.equal(entry.module, 'sms');
  }
  t.match(JSON.parse(lines[0]).text, /la \*\*\*\*\*\*, hieu luc 5 phut/);
  t.match(JSON.parse(lines[1]).text, /K7M3-9P2X4 \(Khai sinh\) luc 21:45 ngay 12\/03/, 'dossier code and time stay readable');
});

t.test('masking helpers', async (t) => {
  t.equal(maskNumber('+84912345678'), '+84*****678');
  t.equal(maskNumber('+84387654321'), '+84*****321');
  t.equal(maskNumber('123'), '*****');
  t.equal(maskText('ma 123 va 4567 va 12345678901'), 'ma 123 va ****** va ******');
});
