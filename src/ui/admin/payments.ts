/**
 * Fees and the day's reconciliation (issue 13, docs/payments.md): what came into the collecting
 * account, what paid a deposit, what is due back and why, per procedure, the receipts issued and
 * whether their numbers run without a gap; the day as CSV for the accounts office. Admins only.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ReconciliationDay } from '../../services/reconciliation.js';
import { api, ApiError } from '../shared/api.js';
import { html } from '../shared/html.js';

const vnd = (n: number) => `${new Intl.NumberFormat('vi-VN').format(n)} đ`;
const OUTCOMES: Record<string, string> = {
  matched: 'Khớp',
  wrong_amount: 'Sai số tiền',
  duplicate: 'Nộp hai lần',
  late: 'Đến muộn',
  unmatched: 'Không rõ hồ sơ',
};
/** Today in the locker's time zone (the day the reconciliation is counted in). */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());

export function Payments({ token, onUnauthorized }: { token: string; onUnauthorized: () => void }) {
  const title = 'Lệ phí và đối soát';
  const [date, setDate] = useState(today());
  const [day, setDay] = useState<ReconciliationDay | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Bumped when a refund is recorded: the day and the list of refunds due are read again. */
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let stopped = false;
    setDay(null);
    setError(null);
    api<ReconciliationDay>('GET', `/api/admin/payments?date=${date}`, { token }).then(
      (d) => !stopped && setDay(d),
      (err) => {
        if (err instanceof ApiError && err.status === 401) onUnauthorized();
        else if (!stopped)
          setError(err instanceof ApiError && err.status === 403 ? 'Chỉ quản trị viên xem được phần này.' : 'Không tải được.');
      },
    );
    return () => {
      stopped = true;
    };
  }, [date, token, version]);

  // The CSV needs the bearer token: fetched, then handed to the browser as a file.
  const download = async () => {
    const res = await fetch(`/api/admin/payments.csv?date=${date}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) return setError('Không tải được tệp CSV.');
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `doi-soat-le-phi-${date}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const flagged = day?.transfers.filter((t) => t.refundDue > 0) ?? [];
  const gaps = day?.gaps.filter((g) => g.missing.length > 0) ?? [];
  return html`<section class="panel payments" aria-label=${title}>
    <div class="panel-head">
      <h2>${title}</h2>
      <div class="row">
        <label
          >Ngày
          <input
            type="date"
            value=${date}
            max=${today()}
            onChange=${(e: Event) => setDate((e.target as HTMLInputElement).value || today())}
        /></label>
        <button class="btn" onClick=${download} disabled=${!day}>Tải CSV</button>
      </div>
    </div>
    ${error ? html`<p class="muted" role="alert">${error}</p>` : null} ${!day && !error ? html`<p class="muted">Đang tải…</p>` : null}
    ${
      day
        ? html`<dl class="payment-totals">
              <div>
                <dt>Tiền đã nhận</dt>
                <dd data-total="received">${vnd(day.totals.received)}</dd>
              </div>
              <div>
                <dt>Khớp với hồ sơ</dt>
                <dd data-total="matched">${vnd(day.totals.matched)}</dd>
              </div>
              <div class=${day.totals.refundDue > 0 ? 'warn' : ''}>
                <dt>Phải hoàn trả</dt>
                <dd data-total="refundDue">${vnd(day.totals.refundDue)}</dd>
              </div>
              <div>
                <dt>Chưa nộp (thu tại quầy)</dt>
                <dd data-total="unpaid">${vnd(day.totals.unpaidAtCounter)}</dd>
              </div>
              <div>
                <dt>Biên lai đã phát hành</dt>
                <dd data-total="receipts">${day.totals.receipts}</dd>
              </div>
            </dl>
            <p data-gaps class=${gaps.length ? 'bad' : 'ok'}>
              ${
                gaps.length
                  ? gaps.map((g) => `Ký hiệu ${g.series}/${g.year}: thiếu số ${g.missing.join(', ')}`).join('; ')
                  : 'Số biên lai liên tục, không thiếu số.'
              }
            </p>
            ${
              day.byProcedure.length
                ? html`<table class="payments-table">
                    <thead>
                      <tr>
                        <th scope="col">Thủ tục</th>
                        <th scope="col" class="num">Đã nộp</th>
                        <th scope="col" class="num">Số tiền</th>
                        <th scope="col" class="num">Chưa nộp</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${day.byProcedure.map(
                        (p) =>
                          html`<tr data-procedure=${p.procedureCode}>
                            <th scope="row">${p.procedureCode}</th>
                            <td class="num">${p.paid}</td>
                            <td class="num">${vnd(p.amount)}</td>
                            <td class="num">${p.unpaid}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>`
                : html`<p class="muted">Không có khoản lệ phí nào trong ngày.</p>`
            }
            ${
              flagged.length
                ? html`<h3>Chuyển khoản phải hoàn trả</h3>
                    <table class="payments-table">
                      <thead>
                        <tr>
                          <th scope="col">Mã giao dịch</th>
                          <th scope="col">Nội dung tìm thấy</th>
                          <th scope="col">Lý do</th>
                          <th scope="col" class="num">Số tiền</th>
                          <th scope="col" class="num">Hoàn trả</th>
                          <th scope="col">Đã hoàn</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${flagged.map(
                          (t) =>
                            html`<tr data-transfer=${t.providerTxId}>
                              <td class="code">${t.providerTxId}</td>
                              <td class="code">${t.reference ?? '–'}</td>
                              <td>${t.outcome === 'matched' ? 'Hồ sơ không nộp được' : (OUTCOMES[t.outcome] ?? t.outcome)}</td>
                              <td class="num">${vnd(t.amount)}</td>
                              <td class="num">${vnd(t.refundDue)}</td>
                              <td data-refunded>${t.refundedAt ? `${when(t.refundedAt)} · ${t.refundReference}` : 'Chưa'}</td>
                            </tr>`,
                        )}
                      </tbody>
                    </table>`
                : null
            }`
        : null
    }
    <${RefundsDue} token=${token} onUnauthorized=${onUnauthorized} version=${version} onRecorded=${() => setVersion((v) => v + 1)} />
  </section>`;
}

const when = (iso: string) =>
  new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));

/**
 * Every transfer whose money is still due back, whatever its day, with a way to record the refund
 * as sent (the bank's reference of the refund transfer): the admins' to-do list until it is empty.
 */
function RefundsDue(props: { token: string; onUnauthorized: () => void; version: number; onRecorded: () => void }) {
  const { token, onUnauthorized, version, onRecorded } = props;
  const [refunds, setRefunds] = useState<RefundRow[] | null>(null);
  const [refs, setRefs] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    let stopped = false;
    api<{ refunds: RefundRow[] }>('GET', '/api/admin/refunds', { token }).then(
      (r) => !stopped && setRefunds(r.refunds),
      (err) => {
        if (err instanceof ApiError && err.status === 401) onUnauthorized();
        else if (!stopped) setRefunds([]);
      },
    );
    return () => {
      stopped = true;
    };
  }, [token, version]);

  const record = async (t: RefundRow) => {
    const reference = (refs[t.transferId] ?? '').trim();
    if (!reference) return setMessage({ ok: false, text: 'Nhập mã giao dịch của lần chuyển hoàn tiền trước.' });
    try {
      await api('POST', `/api/admin/transfers/${t.transferId}/refund`, { token, body: { reference } });
      setMessage({ ok: true, text: `Đã ghi nhận hoàn ${vnd(t.refundDue)} cho giao dịch ${t.providerTxId}.` });
      onRecorded();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return onUnauthorized();
      const words: Record<string, string> = {
        REFUND_ALREADY_RECORDED: 'Khoản hoàn tiền này đã được ghi nhận trước đó.',
        REFUND_NOT_DUE: 'Giao dịch này không phải hoàn tiền.',
        TRANSFER_NOT_FOUND: 'Không có giao dịch này.',
        VALIDATION_FAILED: 'Mã giao dịch hoàn tiền chỉ gồm chữ, số, khoảng trắng và . / _ : # - (tối đa 64 ký tự).',
      };
      setMessage({ ok: false, text: (err instanceof ApiError && words[err.code]) || 'Không ghi nhận được. Thử lại.' });
      if (err instanceof ApiError && err.code === 'REFUND_ALREADY_RECORDED') onRecorded();
    }
  };

  if (!refunds) return null;
  return html`<div class="refunds-due" data-refunds-due>
    <h3>Tiền phải hoàn, chưa hoàn (mọi ngày)</h3>
    ${message ? html`<p role="status" class=${message.ok ? 'ok' : 'bad'}>${message.text}</p>` : null}
    ${
      refunds.length === 0
        ? html`<p class="muted">Không còn khoản nào phải hoàn.</p>`
        : html`<table class="payments-table">
            <thead>
              <tr>
                <th scope="col">Nhận lúc</th>
                <th scope="col">Mã giao dịch</th>
                <th scope="col">Lý do</th>
                <th scope="col" class="num">Hoàn trả</th>
                <th scope="col">Mã giao dịch hoàn tiền</th>
              </tr>
            </thead>
            <tbody>
              ${refunds.map(
                (t) =>
                  html`<tr data-refund=${t.providerTxId}>
                    <td>${when(t.receivedAt)}</td>
                    <td class="code">${t.providerTxId}</td>
                    <td>${t.outcome === 'matched' ? 'Hồ sơ không nộp được' : (OUTCOMES[t.outcome] ?? t.outcome)}</td>
                    <td class="num">${vnd(t.refundDue)}</td>
                    <td>
                      <input
                        aria-label=${`Mã giao dịch hoàn tiền cho ${t.providerTxId}`}
                        maxlength="64"
                        value=${refs[t.transferId] ?? ''}
                        onInput=${(e: Event) => setRefs({ ...refs, [t.transferId]: (e.target as HTMLInputElement).value })}
                      />
                      <button class="btn" onClick=${() => record(t)}>Đã hoàn tiền</button>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </div>`;
}

type RefundRow = ReconciliationDay['transfers'][number];
