// Countdown to an unpaid order's expiry, from the server's RFC 3339 time.

/**
 * @param {string} expiresAt RFC 3339
 * @param {number} nowMs
 * @returns {{left: number, text: string}} seconds left and "mm:ss" ("00:00" once expired)
 */
function countdown(expiresAt, nowMs) {
  const left = Math.max(0, Math.floor((Date.parse(expiresAt) - nowMs) / 1000));
  const mm = String(Math.floor(left / 60)).padStart(2, '0');
  const ss = String(left % 60).padStart(2, '0');
  return { left, text: `${mm}:${ss}` };
}

/** RFC 3339 → "2026-11-24 18:05" in China time, for order lists. */
function shortTime(iso) {
  const t = new Date(Date.parse(iso) + 8 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}`;
}

module.exports = { countdown, shortTime };
