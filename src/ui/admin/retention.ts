/** Personal data that expires (docs/retention.md): the settings, the next purge and the last one, with its counts. */
import { html } from '../shared/html.js';
import { formatDateTime } from '../shared/format.js';

/** What `GET /api/admin/retention` answers (the service's own type). */
export type { RetentionStatusView as RetentionStatus } from '../../domain/api.js';
import type { RetentionStatusView as RetentionStatus } from '../../domain/api.js';

type PurgeCounts = NonNullable<RetentionStatus['lastRun']>['counts'];

const COUNTS: [keyof PurgeCounts, string][] = [
  ['dossiers', 'Hồ sơ đã đóng: xoá số điện thoại'],
  ['smsMessages', 'Tin nhắn SMS: xoá người nhận'],
  ['challenges', 'Mã OTP đã hết hạn hoặc đã dùng'],
  ['otpSends', 'Lượt gửi mã OTP'],
  ['phoneGuards', 'Đếm mã nhập sai theo số điện thoại'],
  ['outbox', 'Sự kiện đã gửi (MQTT)'],
  ['auditPersonal', 'Nhật ký: xoá tên, ghi chú'],
  ['sessions', 'Phiên đăng nhập đã hết'],
  ['transferTexts', 'Chuyển khoản: xoá nội dung (tên người chuyển)'],
];

const who = (actor: string) => (actor === 'system' ? 'tự động' : actor);

export function Retention({ status }: { status: RetentionStatus | null }) {
  if (!status)
    return html`<section class="panel retention" aria-label="Lưu giữ dữ liệu cá nhân">
      <h2>Lưu giữ dữ liệu cá nhân</h2>
      <p class="muted">Đang tải…</p>
    </section>`;
  const { settings: s, lastRun } = status;
  return html`<section class="panel retention" aria-label="Lưu giữ dữ liệu cá nhân">
    <h2>Lưu giữ dữ liệu cá nhân</h2>
    <dl class="retention-settings">
      <dt>Số điện thoại của hồ sơ đã đóng</dt>
      <dd data-setting="closedDossierDays">xoá sau ${s.closedDossierDays} ngày</dd>
      <dt>Mã OTP hết hạn hoặc đã dùng</dt>
      <dd data-setting="challengeDays">xoá sau ${s.challengeDays} ngày</dd>
      <dt>Sự kiện đã gửi</dt>
      <dd data-setting="sentEventDays">xoá sau ${s.sentEventDays} ngày</dd>
      <dt>Tên và ghi chú trong nhật ký</dt>
      <dd data-setting="auditPersonalDays">xoá sau ${s.auditPersonalDays} ngày</dd>
      <dt>Phiên đăng nhập đã hết</dt>
      <dd data-setting="endedSessionDays">xoá sau ${s.endedSessionDays} ngày</dd>
      <dt>Chạy hằng ngày</dt>
      <dd data-setting="runAt">${s.runAt ? `lúc ${s.runAt} (${s.timezone})` : 'mỗi 24 giờ'}</dd>
      <dt>Lần tới</dt>
      <dd data-setting="nextRunAt">${formatDateTime(status.nextRunAt)}</dd>
    </dl>
    <h3>Lần xoá gần nhất</h3>
    ${
      lastRun
        ? html`<p data-last-run=${lastRun.at}>${formatDateTime(lastRun.at)} <span class="muted">· ${who(lastRun.actor)}</span></p>
            <table class="retention-counts">
              <tbody>
                ${COUNTS.map(
                  ([key, label]) =>
                    html`<tr data-count=${key}>
                      <th scope="row">${label}</th>
                      <td>${lastRun.counts[key]}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : html`<p class="muted">Chưa chạy lần nào.</p>`
    }
  </section>`;
}
