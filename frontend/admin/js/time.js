// The shop's business days are China calendar days (UTC+8, no daylight saving); the API sends
// UTC RFC 3339 timestamps and takes YYYY-MM-DD China dates.

const CN_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 86400 * 1000;

/** The China calendar date of an instant, "YYYY-MM-DD". */
export function cnDate(at = new Date()) {
  return new Date(at.getTime() + CN_OFFSET_MS).toISOString().slice(0, 10);
}

/** "YYYY-MM-DD" + n days. */
export function addDays(date, n) {
  const t = Date.parse(`${date}T00:00:00Z`) + n * DAY_MS;
  return new Date(t).toISOString().slice(0, 10);
}

/** Every date from `from` to `to` inclusive. */
export function dateRange(from, to) {
  const out = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** An API timestamp in China time, "2026-11-24 18:05:33"; "—" when absent. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t + CN_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

export function isDate(s) {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
}
