/**
 * The citizens' satisfaction (the kiosk's rating after a deposit or a pickup), per month and
 * service: ratings per face, the share of "very satisfied" and "satisfied", the reasons given.
 * This month always, both services; earlier months of the last 12 when they have ratings.
 */
import { RATING_REASONS, RATINGS, type RatedService, type Rating, type RatingReason } from '../../domain/ratings.js';
import { html } from '../shared/html.js';
import type { Stats } from './figures.js';

type Month = Stats['satisfaction'][number];

const FACES: Record<Rating, string> = {
  very_satisfied: 'Rất hài lòng',
  satisfied: 'Hài lòng',
  neutral: 'Bình thường',
  dissatisfied: 'Không hài lòng',
};
const SERVICES: Record<RatedService, string> = { deposit: 'Nộp hồ sơ', pickup: 'Nhận kết quả' };
const REASONS: Record<RatingReason, string> = {
  waiting: 'Chờ lâu',
  machine_fault: 'Máy lỗi',
  instructions_unclear: 'Hướng dẫn khó hiểu',
  staff: 'Thái độ cán bộ',
  other: 'Khác',
};

const share = (r: number | null) => (r === null ? '–' : `${Math.round(r * 1000) / 10}%`);
const monthName = (m: string) => `${m.slice(5, 7)}/${m.slice(0, 4)}`;
const reasonsGiven = (m: Month) =>
  RATING_REASONS.filter((r) => m.reasons[r] > 0)
    .map((r) => `${REASONS[r]} ${m.reasons[r]}`)
    .join(', ') || '–';

export function Satisfaction({ stats }: { stats: Stats | null }) {
  const title = 'Mức độ hài lòng của người dân';
  if (!stats)
    return html`<section class="panel satisfaction" aria-label=${title}>
      <h2>${title}</h2>
      <p class="muted">Đang tải…</p>
    </section>`;
  const current = stats.satisfaction.at(-1)?.month;
  // Newest month first; deposit, then pickup within a month (the API's order).
  const shown = stats.satisfaction.filter((m) => m.month === current || m.total > 0);
  const rows = [...new Set(shown.map((m) => m.month))].reverse().flatMap((month) => shown.filter((m) => m.month === month));
  return html`<section class="panel satisfaction" aria-label=${title}>
    <h2>${title}</h2>
    <p class="muted">
      Đánh giá trên màn hình của máy sau mỗi lần nộp hồ sơ hoặc nhận kết quả (không bắt buộc, không kèm thông tin cá nhân). Tỷ lệ hài lòng:
      (rất hài lòng + hài lòng) / số lượt đánh giá.
    </p>
    <table class="satisfaction-table">
      <thead>
        <tr>
          <th scope="col">Tháng</th>
          <th scope="col">Dịch vụ</th>
          ${RATINGS.map((r) => html`<th scope="col" class="num">${FACES[r]}</th>`)}
          <th scope="col" class="num">Số lượt</th>
          <th scope="col" class="num">Tỷ lệ hài lòng</th>
          <th scope="col">Lý do chưa hài lòng</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (m) =>
            html`<tr data-month=${m.month} data-service=${m.service}>
              <th scope="row">${monthName(m.month)}</th>
              <td>${SERVICES[m.service]}</td>
              ${RATINGS.map((r) => html`<td class="num" data-face=${r}>${m.counts[r]}</td>`)}
              <td class="num" data-total>${m.total}</td>
              <td class="num share" data-share>${share(m.satisfiedShare)}</td>
              <td>${reasonsGiven(m)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
