import { once } from 'node:events';
import t, { type Test } from 'tap';
import smpp from 'smpp';
import type { Config } from '../../src/config/types.js';
import { systemClock } from '../../src/domain/clock.js';
import { AppError } from '../../src/domain/errors.js';
import { encodeInfo } from '../../src/domain/sms-text.js';
import { silentLogger } from '../../src/log.js';
import type { SmsDeliveryReport } from '../../src/sms/gateway.js';
import { SmppSmsGateway } from '../../src/sms/smpp.js';

/** An SMSC on loopback: checks credentials, answers submit_sm with m1, m2, …, keeps what it got. */
async function smsc(t: Test) {
  const submits: smpp.PDU[] = [];
  const binds: { systemId: string; ok: boolean }[] = [];
  let next = 0;
  const server = smpp.createServer((session) => {
    session.on('error', () => undefined);
    session.on('bind_transceiver', (pdu: smpp.PDU) => {
      const ok = pdu.system_id === 'atm247' && pdu.password === 's3cret';
      binds.push({ systemId: pdu.system_id, ok });
      if (!ok) {
        session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD }));
        session.close();
        return;
      }
      session.send(pdu.response({ system_id: 'SMSC' }));
    });
    session.on('submit_sm', (pdu: smpp.PDU) => {
      submits.push(pdu);
      if (pdu.destination_addr === '84900000000') session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      else session.send(pdu.response({ message_id: `m${++next}` }));
    });
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      session.send(pdu.response());
      session.close();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of [...server.sessions]) s.destroy();
    server.close();
  });
  const bound = () => server.sessions.find((s) => s.socket.writable)!;
  return { server, port: server.address().port, submits, binds, bound };
}

function gateway(t: Test, port: number, over: Partial<Config['sms']['smpp']> = {}) {
  const config: Config['sms']['smpp'] = {
    host: '127.0.0.1',
    port,
    systemId: 'atm247',
    password: 's3cret',
    systemType: '',
    enquireLinkMs: 60_000,
    submitTimeoutMs: 1_000,
    reconnectMs: 50,
    ...over,
  };
  const gw = new SmppSmsGateway(config, 'UBNDQ6', { logger: silentLogger(), clock: systemClock });
  t.teardown(() => gw.stop());
  return gw;
}

const until = async (what: string, fn: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

t.test('binds with the configured credentials and submits from the brand name in GSM-7', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  const text = 'UBNDQ6: Ma xac thuc ATM 24/7 la 482913, hieu luc 5 phut.';
  const result = await gw.send({ id: 'a1', to: '+84912345678', text, kind: 'otp' });
  t.same(result, { providerMessageId: 'm1', segments: 1, encoding: 'GSM-7' });
  t.same(s.binds, [{ systemId: 'atm247', ok: true }]);
  const pdu = s.submits[0];
  t.match(pdu, {
    source_addr_ton: 5,
    source_addr: 'UBNDQ6',
    dest_addr_ton: 1,
    destination_addr: '84912345678',
    data_coding: 0,
    registered_delivery: 1,
  });
  t.equal(pdu.esm_class & 0x40, 0, 'no UDH on a single segment');
  t.equal(pdu.short_message.message, text);
  t.ok(gw.status().ok);
});

t.test('a wrong password is refused: sends fail with SMS_FAILED and the status says why', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port, { password: 'wrong', submitTimeoutMs: 400, reconnectMs: 1_000 });
  await gw.start();
  const err = await gw.send({ id: 'a1', to: '+84912345678', text: 'x', kind: 'otp' }).catch((e) => e);
  t.ok(err instanceof AppError);
  t.equal(err.code, 'SMS_FAILED');
  t.match(err.message, /not bound.*bind refused.*ESME_RINVPASWD/);
  t.notMatch(err.message, /912345678/);
  t.same(s.binds[0], { systemId: 'atm247', ok: false });
  t.equal(s.submits.length, 0);
  t.match(gw.status(), { ok: false, detail: /ESME_RINVPASWD/ });
});

t.test('an accented text goes as UCS-2, split into concatenated parts that reassemble', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  const text =
    'UBNDQ6: Đã có kết quả hồ sơ K7M3-9P2X4 tại ATM 24/7, ô số 37. Nhận trước hết ngày 15/03 bằng số điện thoại này và mã xác thực.';
  const info = encodeInfo(text);
  t.equal(info.encoding, 'UCS-2');
  t.equal(info.segments, 2);
  const result = await gw.send({ id: 'a2', to: '+84912345678', text, kind: 'result_ready' });
  t.same(result, { providerMessageId: 'm1', segments: 2, encoding: 'UCS-2' });
  t.equal(s.submits.length, 2);
  const refs = new Set<number>();
  let joined = '';
  s.submits.forEach((pdu, i) => {
    t.equal(pdu.data_coding, 8);
    t.equal(pdu.esm_class & 0x40, 0x40, 'UDH indicator set');
    const [ie] = pdu.short_message.udh as Buffer[];
    t.same([...ie], [0x00, 0x03, ie[2], 2, i + 1], `part ${i + 1}: concatenation header`);
    refs.add(ie[2]);
    t.ok(pdu.short_message.message.length <= 67);
    joined += pdu.short_message.message;
  });
  t.equal(refs.size, 1, 'one reference for all parts');
  t.equal(joined, text);
});

t.test('a long GSM-7 text is split at 153 septets', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  const text = 'A'.repeat(200) + '[x]';
  const result = await gw.send({ id: 'a3', to: '+84912345678', text, kind: 'test' });
  t.equal(result.segments, 2);
  t.same(
    s.submits.map((p) => p.data_coding),
    [0, 0],
  );
  t.equal(s.submits[0].short_message.message.length, 153);
  t.equal(s.submits.map((p) => p.short_message.message).join(''), text);
});

t.test('an SMSC refusal (command_status ≠ 0) is SMS_FAILED naming the status, never the number', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  const err = await gw.send({ id: 'a4', to: '+84900000000', text: 'Ma 123456', kind: 'otp' }).catch((e) => e);
  t.equal(err.code, 'SMS_FAILED');
  t.match(err.message, /ESME_RTHROTTLED/);
  t.notMatch(err.message, /900000000|123456/);
});

t.test('a deliver_sm receipt becomes a delivery event with the submit id', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  const reports: SmsDeliveryReport[] = [];
  gw.on('delivery', (r) => reports.push(r));
  const { providerMessageId } = await gw.send({ id: 'a5', to: '+84912345678', text: 'Xin chao', kind: 'test' });
  const receipt = `id:${providerMessageId} sub:001 dlvrd:001 submit date:2503122145 done date:2503122146 stat:DELIVRD err:000 text:Xin chao`;
  const acked = new Promise<smpp.PDU>((resolve) =>
    s.bound().deliver_sm(
      {
        source_addr: '84912345678',
        destination_addr: 'UBNDQ6',
        esm_class: 0x04,
        short_message: receipt,
      },
      resolve,
    ),
  );
  t.equal((await acked).command_status, 0, 'the receipt is acknowledged');
  await until('delivery event', () => reports.length === 1);
  t.match(reports[0], { providerMessageId: 'm1', status: 'delivered' });
  t.ok(reports[0].at instanceof Date);

  // A text from a phone (not a receipt) is acknowledged and ignored.
  await new Promise((resolve) =>
    s
      .bound()
      .deliver_sm({ source_addr: '84912345678', destination_addr: 'UBNDQ6', esm_class: 0, short_message: 'id:m1 stat:UNDELIV' }, resolve),
  );
  // A failure receipt by TLV only.
  await new Promise((resolve) =>
    s.bound().deliver_sm(
      {
        source_addr: '84912345678',
        destination_addr: 'UBNDQ6',
        esm_class: 0x04,
        receipted_message_id: 'm9',
        message_state: 5,
        short_message: '',
      },
      resolve,
    ),
  );
  await until('second delivery event', () => reports.length === 2);
  t.match(reports[1], { providerMessageId: 'm9', status: 'failed' });
});

t.test('a multi-part text is delivered when every part is', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  const reports: SmsDeliveryReport[] = [];
  gw.on('delivery', (r) => reports.push(r));
  const r = await gw.send({ id: 'a6', to: '+84912345678', text: 'B'.repeat(300), kind: 'test' });
  t.equal(r.segments, 2);
  const receipt = (id: string) =>
    new Promise((resolve) =>
      s.bound().deliver_sm(
        {
          source_addr: '84912345678',
          destination_addr: 'UBNDQ6',
          esm_class: 0x04,
          short_message: `id:${id} stat:DELIVRD err:000`,
        },
        resolve,
      ),
    );
  await receipt('m2');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(reports.length, 0, 'one part of two: not yet');
  await receipt('m1');
  await until('delivery event', () => reports.length === 1);
  t.match(reports[0], { providerMessageId: 'm1', status: 'delivered' });
});

t.test('when the SMSC drops the link the gateway rebinds and the next send works', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  await gw.send({ id: 'b1', to: '+84912345678', text: 'one', kind: 'test' });
  s.bound().destroy();
  await until('link down', () => !gw.status().ok);
  const result = await gw.send({ id: 'b2', to: '+84912345678', text: 'two', kind: 'test' });
  t.equal(result.providerMessageId, 'm2');
  t.equal(s.binds.length, 2, 'bound again');
  t.equal(s.submits[1].short_message.message, 'two');
  t.ok(gw.status().ok);
});

t.test('an unanswered enquire_link drops the link and the gateway rebinds', async (t) => {
  let mute = true;
  const s = await smsc(t);
  s.server.on('session', (session: smpp.Session) => {
    session.removeAllListeners('enquire_link');
    session.on('enquire_link', (pdu: smpp.PDU) => {
      if (!mute) session.send(pdu.response());
    });
  });
  const gw = gateway(t, s.port, { enquireLinkMs: 1_000, submitTimeoutMs: 300 });
  await gw.start();
  await until('bound', () => gw.status().ok);
  await until('rebound after a dead keepalive', () => s.binds.length >= 2, 5_000);
  mute = false;
  const result = await gw.send({ id: 'c1', to: '+84912345678', text: 'ok', kind: 'test' });
  t.ok(result.providerMessageId);
});

t.test('stop unbinds and later sends fail', async (t) => {
  const s = await smsc(t);
  const gw = gateway(t, s.port);
  await gw.start();
  await until('bound', () => gw.status().ok);
  await gw.stop();
  await until('session closed', () => s.server.sessions.length === 0);
  const err = await gw.send({ id: 'd1', to: '+84912345678', text: 'x', kind: 'test' }).catch((e) => e);
  t.equal(err.code, 'SMS_FAILED');
});
