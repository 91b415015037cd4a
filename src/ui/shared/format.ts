/** Formatting shared by the screens (Vietnamese conventions: 50.000 đ, 21:05, 14/03/2025). */

export type Lang = 'vi' | 'en';

export function formatPhone(digits: string): string {
  const d = digits.replace(/\D/g, '');
  return [d.slice(0, 4), d.slice(4, 7), d.slice(7, 10), d.slice(10)].filter(Boolean).join(' ');
}

export function formatFee(fee: number, lang: Lang): string {
  if (!fee) return lang === 'vi' ? 'Miễn phí' : 'Free';
  return `${new Intl.NumberFormat('vi-VN').format(fee)} đ`;
}

const TZ = 'Asia/Ho_Chi_Minh';

export function formatTime(iso: string | Date, lang: Lang = 'vi'): string {
  return new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );
}

export function formatDateTime(iso: string | Date, lang: Lang = 'vi'): string {
  return new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', {
    timeZone: TZ,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}

/** Lower case without diacritics, for searching Vietnamese text typed without accents. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'd')
    .toLowerCase();
}
