// The pure modules: money, countdown, error messages.
const test = require('node:test');
const assert = require('node:assert/strict');
const { formatFen, parseYuan } = require('../utils/money.js');
const { countdown, shortTime } = require('../utils/time.js');
const { MESSAGES, friendly, FALLBACK } = require('../utils/errors.js');
const fs = require('node:fs');
const path = require('node:path');

test('fen are shown as yuan with two decimals', () => {
  assert.equal(formatFen(0), '¥0.00');
  assert.equal(formatFen(5), '¥0.05');
  assert.equal(formatFen(12900), '¥129.00');
  assert.equal(formatFen(123456789), '¥1234567.89');
  assert.equal(formatFen(-150), '-¥1.50');
});

test('yuan typed by a shopper become exact fen, or nothing', () => {
  assert.equal(parseYuan('10.5'), 1050);
  assert.equal(parseYuan('10.50'), 1050);
  assert.equal(parseYuan('0.01'), 1);
  assert.equal(parseYuan(' 129 '), 12900);
  assert.equal(parseYuan('¥3.3'), 330);
  assert.equal(parseYuan('0.1'), 10);
  // 0.1 + 0.2 style float errors cannot happen: no floats are involved.
  assert.equal(parseYuan('19.99'), 1999);
  for (const bad of ['', '0', '0.00', '-1', '1.234', '1e3', 'abc', '1,5', '.5', '12.']) {
    assert.equal(parseYuan(bad), null, bad);
  }
});

test('the countdown never goes below zero', () => {
  const now = Date.parse('2026-11-24T10:00:00Z');
  assert.deepEqual(countdown('2026-11-24T10:29:59Z', now), { left: 1799, text: '29:59' });
  assert.deepEqual(countdown('2026-11-24T09:00:00Z', now), { left: 0, text: '00:00' });
  assert.equal(shortTime('2026-11-24T10:05:00Z'), '2026-11-24 18:05');
});

test('every error code of the API has a Chinese message', () => {
  const spec = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'openapi.json'), 'utf8'));
  const codes = JSON.stringify(spec).match(/"enum":\s*\[[^\]]*"OUT_OF_STOCK"[^\]]*\]/);
  assert.ok(codes, 'the error code enum is in docs/openapi.json');
  for (const code of JSON.parse(codes[0].replace(/^"enum":\s*/, ''))) {
    assert.ok(MESSAGES[code], `no message for ${code}`);
    assert.match(MESSAGES[code], /[\u4e00-\u9fa5]/);
  }
  assert.equal(friendly({ code: 'SOMETHING_NEW' }), FALLBACK);
  assert.equal(friendly(null), FALLBACK);
});
