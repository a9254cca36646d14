// Money is integer fen everywhere. Yuan strings typed by operators are parsed digit by digit,
// never through floating point: "19.9" is 1990 fen, "0.07" is 7 fen, "1.005" is refused.

/** Largest SKU price the server accepts (core MAX_PRICE): ¥1,000,000.00. */
export const MAX_PRICE_FEN = 100_000_000;

/**
 * Parses a yuan amount ("12", "12.5", "12.50", "¥1,234.00", "１２.５" with full-width digits)
 * into integer fen. Returns { fen } or { error } with a Chinese message.
 * @param {string} raw
 * @param {{min?: number, max?: number}} [limits] in fen, inclusive
 */
export function parseYuan(raw, limits = {}) {
  const min = limits.min ?? 1;
  const max = limits.max ?? MAX_PRICE_FEN;
  if (raw === null || raw === undefined) return { error: '请输入金额' };
  let s = String(raw)
    .replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\uFF0E/g, '.')
    .trim()
    .replace(/^[¥￥]\s*/, '')
    .replace(/元$/, '')
    .trim();
  if (s === '') return { error: '请输入金额' };
  if (s.startsWith('-')) return { error: '金额不能为负数' };
  if (s.startsWith('+')) s = s.slice(1);
  // Thousands separators only in the usual places: 1,234,567.89
  if (s.includes(',')) {
    if (!/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) return { error: '金额格式不正确' };
    s = s.replace(/,/g, '');
  }
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) {
    return { error: '金额格式不正确，例如 59.90' };
  }
  const intPart = m[1].replace(/^0+(?=\d)/, '') || '0';
  const frac = m[2] ?? '';
  if (frac.length > 2) return { error: '金额最多两位小数（精确到分）' };
  if (intPart.length > 9) return { error: '金额过大' };
  const fen = Number(intPart) * 100 + Number(frac.padEnd(2, '0'));
  if (!Number.isSafeInteger(fen)) return { error: '金额过大' };
  if (fen < min) return { error: min <= 1 ? '金额至少 0.01 元' : `金额至少 ${fenToYuan(min)} 元` };
  if (fen > max) return { error: `金额不能超过 ${formatFen(max)}` };
  return { fen };
}

/** 123456 → "1234.56" (for input fields; no separators, no symbol). */
export function fenToYuan(fen) {
  if (!Number.isInteger(fen)) return '';
  const neg = fen < 0;
  const abs = Math.abs(fen);
  const yuan = Math.trunc(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${neg ? '-' : ''}${yuan}.${cents}`;
}

/** 123456 → "¥1,234.56"; null/undefined → "—". */
export function formatFen(fen) {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return '—';
  const neg = fen < 0;
  const abs = Math.abs(Math.trunc(fen));
  const yuan = String(Math.trunc(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = String(abs % 100).padStart(2, '0');
  return `${neg ? '-' : ''}¥${yuan}.${cents}`;
}

/** A ratio as a percentage with one decimal, "—" when the denominator is 0. */
export function percent(num, den) {
  if (!den) return '—';
  const tenths = Math.round((num * 1000) / den);
  return `${Math.trunc(tenths / 10)}.${tenths % 10}%`;
}
