// The console's pure modules: money parsing (no floats), China dates, the role table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fenToYuan, formatFen, parseYuan, percent, MAX_PRICE_FEN } from '../js/money.js';
import { addDays, cnDate, dateRange, fmtTime, isDate } from '../js/time.js';
import { can, menuFor, PERMS } from '../js/roles.js';
import { dispositionName } from '../js/api.js';

test('parseYuan turns yuan strings into exact fen', () => {
  const cases = {
    '59.9': 5990, '59.90': 5990, '0.07': 7, '0.1': 10, '12': 1200, '12.': 1200, '.5': 50,
    '¥19.99': 1999, '￥ 1,234.56': 123456, '1,000,000.00': 100_000_000, ' 8.80 ': 880, '００８.８': 880,
    '0.29': 29, '1.15': 115, '4.35': 435, '1005.1': 100510, '000001.01': 101, '8元': 800,
  };
  for (const [raw, fen] of Object.entries(cases)) assert.deepEqual(parseYuan(raw), { fen }, raw);
});

test('parseYuan refuses what is not a price', () => {
  for (const raw of ['', ' ', 'abc', '1.005', '-1', '1e3', '0', '0.00', '1,00', '12,34.5', '1.2.3', '.', '1000000.01', '99999999999', 'NaN', 'Infinity', '0x10']) {
    assert.ok(parseYuan(raw).error, `${JSON.stringify(raw)} should be refused`);
  }
  assert.equal(parseYuan('0', { min: 0 }).fen, 0);
  assert.equal(parseYuan(String(MAX_PRICE_FEN / 100)).fen, MAX_PRICE_FEN);
});

test('float traps stay exact', () => {
  // 0.1 + 0.2 and friends: every cent from 0.00 to 9.99 round-trips.
  for (let fen = 1; fen < 1000; fen++) {
    assert.equal(parseYuan(fenToYuan(fen)).fen, fen);
    assert.equal(parseYuan(formatFen(fen)).fen, fen);
  }
});

test('formatFen and percent', () => {
  assert.equal(formatFen(0), '¥0.00');
  assert.equal(formatFen(5), '¥0.05');
  assert.equal(formatFen(123456789), '¥1,234,567.89');
  assert.equal(formatFen(-250), '-¥2.50');
  assert.equal(formatFen(null), '—');
  assert.equal(fenToYuan(11900), '119.00');
  assert.equal(percent(1, 2), '50.0%');
  assert.equal(percent(2, 3), '66.7%');
  assert.equal(percent(0, 0), '—');
  assert.equal(percent(3, 3), '100.0%');
});

test('China dates', () => {
  assert.equal(cnDate(new Date('2026-11-24T15:59:59Z')), '2026-11-24');
  assert.equal(cnDate(new Date('2026-11-24T16:00:00Z')), '2026-11-25');
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(addDays('2024-12-31', 1), '2025-01-01');
  assert.equal(dateRange('2026-11-28', '2026-12-02').length, 5);
  assert.equal(fmtTime('2026-11-24T10:05:33.123Z'), '2026-11-24 18:05:33');
  assert.equal(fmtTime(null), '—');
  assert.ok(isDate('2026-11-24'));
  assert.ok(!isDate('2026-1-24'));
});

test('roles mirror the server permission table', () => {
  assert.ok(can('admin', PERMS.ManageOperators));
  assert.ok(!can('operator', PERMS.DecideRefunds));
  assert.ok(!can('operator', PERMS.ViewReports));
  assert.ok(!can('operator', PERMS.ViewAudit));
  assert.ok(can('operator', PERMS.ManageOrders));
  assert.ok(can('finance', PERMS.DecideRefunds));
  assert.ok(!can('finance', PERMS.ManageCatalogue));
  assert.ok(!can('finance', PERMS.ManageOrders));
  assert.ok(!can('nobody', PERMS.ViewOrders));
  assert.deepEqual(menuFor('operator').map((m) => m.route), ['dashboard', 'products', 'orders', 'refunds']);
  assert.deepEqual(menuFor('finance').map((m) => m.route), ['dashboard', 'products', 'orders', 'refunds', 'reconciliation', 'audit']);
  assert.equal(menuFor('admin').length, 7);
});

test('download file names come from Content-Disposition', () => {
  assert.equal(dispositionName('attachment; filename="orders-2026-11-01-2026-11-24.csv"', 'x.csv'), 'orders-2026-11-01-2026-11-24.csv');
  assert.equal(dispositionName("attachment; filename*=UTF-8''%E8%AE%A2%E5%8D%95.csv", 'x.csv'), '订单.csv');
  assert.equal(dispositionName(null, 'x.csv'), 'x.csv');
});
