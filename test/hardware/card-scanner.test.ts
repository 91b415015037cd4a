/**
 * The serial ID card scanner (hardware/card-scanner.ts) on serialport's mock binding: each line it
 * reads becomes a scan; anything else is no scan, and the scanner goes on reading.
 */
import t from 'tap';
import { SerialCardScanner, LineSplitter } from '../../hardware/card-scanner.js';
import { SAMPLE_CARD_QR } from '../../src/domain/citizen-id.js';
import { IdCardScans, readCardsFrom, type CardScan } from '../../src/services/id-cards.js';
import { silentLogger } from '../../src/log.js';

async function mockScanner(t: { teardown(fn: () => unknown): void; equal: (a: unknown, b: unknown) => void }, path: string) {
  const { SerialPortMock } = await import('serialport');
  const opened: InstanceType<typeof SerialPortMock>[] = [];
  class RecordingPort extends SerialPortMock {
    constructor(options: ConstructorParameters<typeof SerialPortMock>[0]) {
      super(options);
      opened.push(this);
    }
  }
  t.teardown(() => SerialPortMock.binding.reset());
  SerialPortMock.binding.createPort(path, { echo: false, record: false });
  const scanner = new SerialCardScanner({
    path,
    baudRate: 9600,
    logger: silentLogger(),
    serialPort: RecordingPort as never,
    reopenDelayMs: 20,
  });
  const scans = new IdCardScans();
  const seen: CardScan[] = [];
  scans.onScan((scan, source) => {
    t.equal(source, 'serial');
    seen.push(scan);
  });
  readCardsFrom(scanner, scans, silentLogger());
  await scanner.start();
  t.teardown(() => scanner.stop());
  const emit = (data: string | Buffer) => opened.at(-1)!.port!.emitData(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  return { scanner, scans, seen, emit, opened };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

t.test('a line read on the serial port becomes a scan; garbage becomes none, and reading goes on', async (t) => {
  const { scanner, scans, seen, emit, opened } = await mockScanner(t, '/dev/ttyCARD0');
  t.ok(scanner.isOpen, 'the port is open');
  t.match(opened[0].port?.openOptions, { path: '/dev/ttyCARD0', baudRate: 9600 });

  // The text in three chunks, one of them cutting "ễ" (two of its three UTF-8 bytes) in half.
  const bytes = Buffer.from(`${SAMPLE_CARD_QR}\r\n`, 'utf8');
  const cut = bytes.indexOf(Buffer.from('ễ', 'utf8')) + 1;
  emit(bytes.subarray(0, 10));
  emit(bytes.subarray(10, cut));
  emit(bytes.subarray(cut));
  await settle();
  t.equal(seen.length, 1, 'one scan');
  t.match(seen[0], { fullName: 'Nguyễn Thị Minh Anh', idNumberMasked: '••••••••2345' });
  t.same(scans.take(seen[0].scanId), { idNumber: '079301012345', fullName: 'Nguyễn Thị Minh Anh' });

  emit('garbage that is no card\r');
  emit('\n\n\r\n');
  emit(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d]));
  emit(`${'9'.repeat(2000)}\n`);
  await settle();
  t.equal(seen.length, 1, 'garbage, empty lines, bad bytes and an over-long line make no scan');

  // A scanner with an LF suffix, and one with CR only: both read.
  emit(`${SAMPLE_CARD_QR}\n`);
  emit(`${SAMPLE_CARD_QR}\r`);
  await settle();
  t.equal(seen.length, 3, 'the scanner still reads after garbage');
});

t.test('an unplugged scanner is reopened', async (t) => {
  const { scanner, seen, emit, opened } = await mockScanner(t, '/dev/ttyCARD1');
  await new Promise<void>((resolve) => opened[0].close(() => resolve()));
  t.notOk(scanner.isOpen, 'closed');
  for (let i = 0; i < 50 && !scanner.isOpen; i++) await settle();
  t.ok(scanner.isOpen, 'open again');
  t.equal(opened.length, 2, 'a new port');
  emit(`${SAMPLE_CARD_QR}\r\n`);
  await settle();
  t.equal(seen.length, 1, 'read on the new port');
});

t.test('the line splitter drops the tail of an over-long line', async (t) => {
  const lines: string[] = [];
  const split = new LineSplitter((line) => lines.push(line));
  split.push(Buffer.from('x'.repeat(700)));
  split.push(Buffer.from('tail\nnext\r\n'));
  t.same(lines, ['next']);
});
