import t from 'tap';
import { nextRound, nextRounds, isWorkingDay, dayOff, localDate } from '../../src/domain/calendar.js';
import { loadCalendar } from '../../src/config/calendar.js';

const calendar = loadCalendar();
const vn = (local: string) => new Date(`${local}+07:00`);
const fmt = (d: Date) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(d);

t.test('rounds at 8:00, 13:30 and 16:00 on a working day', async (t) => {
  t.same(nextRounds(calendar, vn('2026-11-24T07:00:00'), 4).map(fmt), [
    '2026-11-24 08:00',
    '2026-11-24 13:30',
    '2026-11-24 16:00',
    '2026-11-25 08:00',
  ]);
  t.equal(fmt(nextRound(calendar, vn('2026-11-24T08:00:00'))), '2026-11-24 13:30', 'strictly after');
  t.equal(fmt(nextRound(calendar, vn('2026-11-24T23:59:00'))), '2026-11-25 08:00', 'late evening: next morning');
});

t.test('across a weekend', async (t) => {
  t.equal(fmt(nextRound(calendar, vn('2026-11-27T16:30:00'))), '2026-11-30 08:00', 'Friday evening → Monday 8:00');
  t.notOk(isWorkingDay(calendar, '2026-11-28'));
  t.equal(dayOff(calendar, '2026-11-29'), 'Chủ nhật');
});

t.test('across a public holiday', async (t) => {
  t.equal(fmt(nextRound(calendar, vn('2026-04-29T16:01:00'))), '2026-05-04 08:00', '30/4 and 1/5 off, then the weekend');
  t.equal(dayOff(calendar, '2026-04-30'), 'Ngày Chiến thắng');
  t.equal(fmt(nextRound(calendar, vn('2026-02-13T17:00:00'))), '2026-02-23 08:00', 'Tết: from the Friday before to Monday after');
  t.equal(fmt(nextRound(calendar, vn('2027-09-01T16:30:00'))), '2027-09-06 08:00', 'Quốc khánh 2027');
});

t.test('a make-up working day on a Saturday', async (t) => {
  t.ok(isWorkingDay(calendar, '2026-01-10'), 'Saturday 10/01/2026 is worked');
  t.equal(fmt(nextRound(calendar, vn('2026-01-09T16:30:00'))), '2026-01-10 08:00', 'Friday evening → Saturday 8:00');
  t.equal(fmt(nextRound(calendar, vn('2026-12-31T16:30:00'))), '2027-01-04 08:00', 'New Year 2027: Friday 1/1 off');
  t.equal(fmt(nextRound(calendar, vn('2025-12-31T16:30:00'))), '2026-01-05 08:00', '1/1 and the swapped 2/1 off');
});

t.test('local dates are taken in Ho Chi Minh City time', async (t) => {
  t.equal(localDate(new Date('2026-11-23T17:30:00Z'), 'Asia/Ho_Chi_Minh'), '2026-11-24', '00:30 local is the next day');
});
