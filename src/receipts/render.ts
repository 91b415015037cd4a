/**
 * Receipts as people see them (issue 13): the public page of a receipt (HTML, to view, check and
 * print) and the citizen's own copy (PDF, A5). Both show the same fields under Vietnamese labels
 * and a QR code pointing at the verification page; the page shows whether the locker's signature
 * holds, the PDF carries the signature for anyone who wants to check it.
 *
 * The page is public: it is rendered from the receipt's public view, so the payer (the masked
 * phone) is never on it. The PDF is the citizen's copy and does print the payer.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import { type PDFFont, type PDFPage, PDFDocument, PageSizes, rgb } from 'pdf-lib';
import QRCode from 'qrcode';
import { type PublicReceiptView, type ReceiptBody, formatReceiptNumber, publicView } from '../domain/receipts.js';

const FEE_TITLE = 'BIÊN LAI THU PHÍ, LỆ PHÍ';
const DEPOSIT_TITLE = 'PHIẾU TIẾP NHẬN HỒ SƠ';
const GENUINE = 'Biên lai hợp lệ — chữ ký số của máy ATM 24/7 đã được kiểm tra';
const NOT_GENUINE = 'KHÔNG HỢP LỆ — biên lai này đã bị thay đổi hoặc không do máy phát hành';
const TIME_ZONE = 'Asia/Ho_Chi_Minh';

// ---------------------------------------------------------------------------------------------
// The fields, shared by the page and the PDF

interface Row {
  label: string;
  value: string;
  /** shown in bold (the amount) */
  strong?: boolean;
  /** a link on the page (the fee receipt a deposit receipt points to) */
  href?: string;
}

interface Layout {
  title: string;
  /** under the title: template, series and number of a fee receipt; the id of a deposit receipt */
  serial: string;
  issuer: Row[];
  rows: Row[];
}

/** 8000 → "8.000 đ", grouped with dots as in Vietnam. */
function formatVnd(amount: number): string {
  return `${String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, '.')} đ`;
}

/** An ISO time as the locker's local time: "21:45 ngày 24/11/2026"; left as it is if it is not a time. */
function formatTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('hour')}:${part('minute')} ngày ${part('day')}/${part('month')}/${part('year')}`;
}

/** The number as printed; as it is if it is not a receipt number (a body that failed verification). */
function receiptNumber(n: number): string {
  return Number.isInteger(n) && n >= 1 && n <= 9_999_999 ? formatReceiptNumber(n) : String(n);
}

/** The fields of a receipt, in the order they are shown; the payer only if the view has one. */
function layout(view: PublicReceiptView | ReceiptBody): Layout {
  if (view.kind === 'fee') {
    return {
      title: FEE_TITLE,
      serial: `Mẫu số: ${view.template}  ·  Ký hiệu: ${view.series}  ·  Số: ${receiptNumber(view.number)}`,
      issuer: [
        { label: 'Đơn vị thu', value: view.issuer.name, strong: true },
        { label: 'Mã số thuế', value: view.issuer.taxCode },
        { label: 'Địa chỉ', value: view.issuer.address },
      ],
      rows: [
        { label: 'Tên phí/lệ phí', value: view.feeName },
        { label: 'Thủ tục', value: `${view.procedureName} (${view.procedureCode})` },
        { label: 'Số tiền', value: formatVnd(view.amount), strong: true },
        { label: 'Bằng chữ', value: view.amountWords },
        ...('payer' in view ? [{ label: 'Người nộp', value: view.payer }] : []),
        { label: 'Thời gian', value: formatTime(view.issuedAt) },
        { label: 'Mã hồ sơ', value: view.dossierCode, strong: true },
        { label: 'Mã giao dịch/Nội dung chuyển khoản', value: view.paymentReference },
      ],
    };
  }
  const { fee } = view;
  const feeText =
    fee.state === 'none' ? 'Miễn phí' : fee.state === 'paid' ? `Đã nộp ${formatVnd(fee.amount)}` : `Nộp tại quầy ${formatVnd(fee.amount)}`;
  return {
    title: DEPOSIT_TITLE,
    serial: `Số phiếu: ${view.id}`,
    issuer: [
      { label: 'Cơ quan tiếp nhận', value: view.issuer.name, strong: true },
      { label: 'Địa chỉ', value: view.issuer.address },
    ],
    rows: [
      { label: 'Mã hồ sơ', value: view.dossierCode, strong: true },
      { label: 'Thủ tục', value: `${view.procedureName} (${view.procedureCode})` },
      { label: 'Ngăn số', value: String(view.tray), strong: true },
      { label: 'Thời gian nộp', value: formatTime(view.depositedAt) },
      { label: 'Lệ phí', value: feeText },
      ...(fee.state === 'paid' && fee.receiptId ? [{ label: 'Biên lai thu phí', value: fee.receiptId, href: `/r/${fee.receiptId}` }] : []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The page

/**
 * Text made safe for HTML, in content and in quoted attributes alike. Taken as unknown: the page
 * also shows bodies that failed verification, whose fields may not be what their types say.
 */
function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function rowsHtml(rows: Row[]): string {
  return rows
    .map(({ label, value, strong, href }) => {
      let content = escapeHtml(value);
      if (href) content = `<a href="${escapeHtml(href)}">${content}</a>`;
      if (strong) content = `<strong>${content}</strong>`;
      return `<tr><th scope="row">${escapeHtml(label)}</th><td>${content}</td></tr>`;
    })
    .join('\n');
}

const PAGE_CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f2f2f2;color:#111;font:15px/1.45 "DejaVu Sans",Arial,"Helvetica Neue",sans-serif}
main{max-width:128mm;margin:16px auto;padding:18px 20px;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.15)}
.banner{margin:0 0 14px;padding:10px 12px;border-radius:4px;font-weight:bold;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.banner.ok{background:#e6f4ea;color:#0d5c1e;border:2px solid #1e8e3e}
.banner.bad{background:#fde8e8;color:#a50e0e;border:2px solid #d93025}
.issuer{margin:0 0 10px;font-size:13px}
.issuer th{font-weight:normal}
h1{margin:12px 0 2px;font-size:19px;text-align:center;letter-spacing:.02em}
.serial{margin:0 0 12px;text-align:center;font-size:13px}
table{width:100%;border-collapse:collapse}
th,td{padding:4px 0;vertical-align:top;text-align:left}
th{width:38%;padding-right:10px;font-weight:normal;color:#444}
.fields td,.fields th{border-top:1px solid #e3e3e3}
.verify{display:flex;gap:14px;align-items:center;margin:16px 0 8px}
.verify svg{width:112px;height:112px;flex:none}
.verify p{margin:0;font-size:13px;overflow-wrap:anywhere}
.signature{margin:8px 0 0;font-size:11px;color:#444}
.signature code{display:block;font:11px/1.35 "DejaVu Sans Mono",Consolas,monospace;overflow-wrap:anywhere}
.actions{display:flex;gap:12px;justify-content:flex-end;margin-top:16px}
.actions a,.actions button{font:inherit;padding:6px 14px;border:1px solid #1a4f8b;border-radius:4px;background:#fff;color:#1a4f8b;text-decoration:none;cursor:pointer}
@media print{
  @page{margin:10mm}
  body{background:#fff;font-size:12px}
  main{max-width:none;width:100%;margin:0;padding:0;box-shadow:none;break-inside:avoid}
  .actions{display:none}
  a{color:inherit;text-decoration:none}
  .verify svg{width:30mm;height:30mm}
}`;

/**
 * The public page of a receipt: whether it is genuine, its fields (never the payer), the QR code
 * of its verification link, a link to the PDF, a print button and the signature.
 */
export async function receiptHtml(r: {
  body: ReceiptBody;
  signature: string;
  genuine: boolean;
  verifyUrl: string;
  pdfUrl: string;
  /** the page's language: Vietnamese only, for now */
  lang?: 'vi';
  /** When the receipt was voided (its fee went back): said above everything else. */
  voidedAt?: string | null;
}): Promise<string> {
  const view = layout(publicView(r.body));
  const qr = (await QRCode.toString(r.verifyUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })).replace(
    '<svg ',
    '<svg role="img" aria-label="Mã QR kiểm tra biên lai" ',
  );
  const voided = r.voidedAt
    ? `<p class="banner bad" role="alert">${escapeHtml(`ĐÃ HỦY từ ${formatTime(r.voidedAt)}: khoản lệ phí này được hoàn trả, biên lai không còn giá trị`)}</p>`
    : '';
  const banner =
    voided +
    (r.genuine
      ? `<p class="banner ok" role="status">${escapeHtml(GENUINE)}</p>`
      : `<p class="banner bad" role="alert">${escapeHtml(NOT_GENUINE)}</p>`);
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(`${view.title} — ${view.serial}`)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
${banner}
<table class="issuer">
${rowsHtml(view.issuer)}
</table>
<h1>${escapeHtml(view.title)}</h1>
<p class="serial">${escapeHtml(view.serial)}</p>
<table class="fields">
${rowsHtml(view.rows)}
</table>
<div class="verify">
${qr}
<p>Quét mã QR hoặc mở đường dẫn để kiểm tra:<br><a href="${escapeHtml(r.verifyUrl)}">${escapeHtml(r.verifyUrl)}</a></p>
</div>
<p class="signature">Chữ ký số (Ed25519) của máy ATM 24/7:<code>${escapeHtml(r.signature)}</code></p>
<div class="actions">
<a href="${escapeHtml(r.pdfUrl)}" download>Tải bản PDF</a>
<button type="button" id="print">${r.body.kind === 'fee' ? 'In biên lai' : 'In phiếu'}</button>
</div>
</main>
<script>document.getElementById('print').addEventListener('click', function () { window.print(); });</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// The PDF

const require = createRequire(import.meta.url);
let fontFiles: Promise<[Uint8Array, Uint8Array]> | undefined;

/** DejaVu Sans and DejaVu Sans Bold (they carry Vietnamese), read once. */
function dejaVu(): Promise<[Uint8Array, Uint8Array]> {
  fontFiles ??= Promise.all([
    readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
    readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
  ]).catch((err: unknown) => {
    // A failed read is not kept: the next receipt tries again.
    fontFiles = undefined;
    throw err;
  });
  return fontFiles;
}

/**
 * Lines of at most `maxWidth` points: words as they fit, and a word longer than a line (a link, the
 * signature) cut where it reaches the edge.
 */
function wrap(text: string, font: PDFFont, size: number, maxWidth: number): string[] {
  const fits = (s: string) => font.widthOfTextAtSize(s, size) <= maxWidth;
  const lines: string[] = [];
  let line = '';
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    for (const char of word) {
      if (line && !fits(line + char)) {
        lines.push(line);
        line = '';
      }
      line += char;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

const MARGIN = 32;
const GREY = rgb(0.3, 0.3, 0.3);

/** A page being written from the top down; a new A5 page when the next block does not fit. */
class Writer {
  page!: PDFPage;
  y = 0;

  constructor(
    private readonly pdf: PDFDocument,
    readonly regular: PDFFont,
    readonly bold: PDFFont,
  ) {
    this.newPage();
  }

  get width(): number {
    return this.page.getWidth() - 2 * MARGIN;
  }

  newPage(): void {
    this.page = this.pdf.addPage(PageSizes.A5);
    this.y = this.page.getHeight() - MARGIN;
  }

  /** Room for `height` points below the current line, or a new page. */
  need(height: number): void {
    if (this.y - height < MARGIN) this.newPage();
  }

  /** Wrapped text at x (from the margin) within maxWidth, or centred on the page. */
  text(text: string, o: { size: number; font?: PDFFont; x?: number; maxWidth?: number; center?: boolean; color?: ReturnType<typeof rgb> }) {
    const font = o.font ?? this.regular;
    const lineHeight = o.size * 1.35;
    const lines = wrap(text, font, o.size, o.maxWidth ?? this.width);
    this.need(lines.length * lineHeight);
    for (const line of lines) {
      this.y -= lineHeight;
      const x = o.center ? (this.page.getWidth() - font.widthOfTextAtSize(line, o.size)) / 2 : MARGIN + (o.x ?? 0);
      this.page.drawText(line, { x, y: this.y + o.size * 0.3, size: o.size, font, color: o.color });
    }
  }

  /** Label and value side by side, each wrapped in its column. */
  rows(rows: Row[], size: number, labelWidth: number): void {
    const lineHeight = size * 1.35;
    const gap = 8;
    for (const { label, value, strong } of rows) {
      const font = strong ? this.bold : this.regular;
      const labelLines = wrap(`${label}:`, this.regular, size, labelWidth);
      const valueLines = wrap(value, font, size, this.width - labelWidth - gap);
      const height = Math.max(labelLines.length, valueLines.length) * lineHeight + 3;
      this.need(height);
      const top = this.y;
      labelLines.forEach((line, i) =>
        this.page.drawText(line, { x: MARGIN, y: top - (i + 1) * lineHeight + size * 0.3, size, font: this.regular, color: GREY }),
      );
      valueLines.forEach((line, i) =>
        this.page.drawText(line, { x: MARGIN + labelWidth + gap, y: top - (i + 1) * lineHeight + size * 0.3, size, font }),
      );
      this.y = top - height;
    }
  }

  rule(): void {
    this.need(10);
    this.y -= 5;
    this.page.drawLine({
      start: { x: MARGIN, y: this.y },
      end: { x: MARGIN + this.width, y: this.y },
      thickness: 0.5,
      color: rgb(0.7, 0.7, 0.7),
    });
    this.y -= 5;
  }
}

/**
 * The citizen's copy of a receipt as a PDF: A5 portrait, DejaVu Sans (subset) for the Vietnamese
 * text, the fields with the payer, the QR code of the verification link with the link under it,
 * and the signature.
 */
export async function receiptPdf(r: { body: ReceiptBody; signature: string; verifyUrl: string }): Promise<Uint8Array> {
  const { body } = r;
  const view = layout(body);
  const [regularBytes, boldBytes] = await dejaVu();
  const pdf = await PDFDocument.create();
  pdf.registerFontkit(fontkit);
  const regular = await pdf.embedFont(regularBytes, { subset: true });
  const bold = await pdf.embedFont(boldBytes, { subset: true });

  const at = new Date(body.kind === 'fee' ? body.issuedAt : body.depositedAt);
  pdf.setTitle(
    body.kind === 'fee' ? `Biên lai ${body.series} số ${receiptNumber(body.number)}` : `Phiếu tiếp nhận hồ sơ ${body.dossierCode}`,
    {
      showInWindowTitleBar: true,
    },
  );
  pdf.setAuthor(body.issuer.name);
  pdf.setSubject(body.procedureName);
  pdf.setCreator('ATM 24/7');
  pdf.setLanguage('vi-VN');
  if (!Number.isNaN(at.getTime())) {
    pdf.setCreationDate(at);
    pdf.setModificationDate(at);
  }

  const w = new Writer(pdf, regular, bold);
  w.rows(view.issuer, 8.5, 118);
  w.y -= 8;
  w.text(view.title, { size: 14, font: bold, center: true });
  w.text(view.serial, { size: 9, center: true });
  w.y -= 6;
  w.rule();
  w.rows(view.rows, 9.5, 118);
  w.rule();

  // The QR code with the link printed under it, a note beside it.
  const qrSize = 96;
  const png = await pdf.embedPng(await QRCode.toBuffer(r.verifyUrl, { type: 'png', margin: 1, width: 384, errorCorrectionLevel: 'M' }));
  w.need(qrSize + 8);
  const top = w.y - 4;
  w.page.drawImage(png, { x: MARGIN, y: top - qrSize, width: qrSize, height: qrSize });
  w.y = top;
  w.text('Quét mã QR hoặc mở đường dẫn dưới đây để kiểm tra chữ ký số của máy ATM 24/7 trên giấy tờ này.', {
    size: 8,
    x: qrSize + 12,
    maxWidth: w.width - qrSize - 12,
    color: GREY,
  });
  w.y = top - qrSize - 2;
  w.text(r.verifyUrl, { size: 8 });
  w.y -= 4;
  w.text('Chữ ký số (Ed25519):', { size: 7, color: GREY });
  w.text(r.signature, { size: 7, color: GREY });

  return pdf.save();
}
