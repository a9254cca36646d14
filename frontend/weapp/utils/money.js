// Money is integer fen everywhere; these only format and parse at the edge. No floats.

/** 12345 → "¥123.45" */
function formatFen(fen) {
  const n = Math.trunc(Number(fen) || 0);
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  const yuan = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}¥${yuan}.${cents}`;
}

/**
 * "12.3" → 1230, "12" → 1200, "0.05" → 5. Returns null for anything that is not a positive
 * amount with at most two decimals (so a shopper's typo never becomes a wrong refund).
 * @param {string} text
 * @returns {number|null}
 */
function parseYuan(text) {
  const s = String(text == null ? '' : text).trim().replace(/^¥/, '');
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  const fen = Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
  return fen > 0 ? fen : null;
}

module.exports = { formatFen, parseYuan };
