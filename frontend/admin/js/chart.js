// A dependency-free SVG chart: bars for orders (and paid orders), a line for GMV on a second
// axis. Amounts stay integer fen; only pixel positions are fractional.

import { s } from './dom.js';
import { formatFen } from './money.js';

/** An axis of 4 steps whose step is 1, 2 or 5 × 10^k (at least `minStep`): the top value. */
function axisMax(v, minStep = 1) {
  const raw = Math.max(v / 4, minStep);
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * exp >= raw) return Math.max(m * exp, minStep) * 4;
  return raw * 4;
}

function yuanShort(fen) {
  const yuan = fen / 100;
  if (yuan >= 10000) return `${(yuan / 10000).toFixed(yuan >= 100000 ? 0 : 1)}万`;
  return String(Math.round(yuan));
}

/**
 * days: [{date, orders, paid_orders, gmv_fen}] in date order.
 */
export function ordersGmvChart(days, { width = 880, height = 280 } = {}) {
  const pad = { l: 44, r: 60, t: 16, b: 28 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const maxOrders = axisMax(Math.max(...days.map((d) => d.orders), 0));
  const maxGmv = axisMax(Math.max(...days.map((d) => d.gmv_fen), 0), 100);
  const step = w / Math.max(days.length, 1);
  const barW = Math.max(2, step * 0.6);
  const x = (i) => pad.l + step * i + step / 2;
  const yO = (v) => pad.t + hgt - (v / maxOrders) * hgt;
  const yG = (v) => pad.t + hgt - (v / maxGmv) * hgt;

  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `近 ${days.length} 天订单数与成交额`, 'data-testid': 'chart' });
  for (let t = 0; t <= 4; t++) {
    const y = pad.t + (hgt * t) / 4;
    svg.append(
      s('line', { x1: pad.l, x2: pad.l + w, y1: y, y2: y, class: 'grid' }),
      s('text', { x: pad.l - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(Math.round((maxOrders * (4 - t)) / 4))),
      s('text', { x: pad.l + w + 6, y: y + 4, 'text-anchor': 'start', class: 'axis axis-gmv' }, `¥${yuanShort((maxGmv * (4 - t)) / 4)}`),
    );
  }
  days.forEach((d, i) => {
    const g = s('g', { class: 'bar-group', 'data-date': d.date });
    g.append(
      s('rect', { x: x(i) - barW / 2, y: yO(d.orders), width: barW, height: pad.t + hgt - yO(d.orders), class: 'bar-orders' }),
      s('rect', { x: x(i) - barW / 2, y: yO(d.paid_orders), width: barW, height: pad.t + hgt - yO(d.paid_orders), class: 'bar-paid' }),
      s('title', null, `${d.date}\n订单 ${d.orders}，已支付 ${d.paid_orders}\n成交额 ${formatFen(d.gmv_fen)}`),
      // A transparent column so the whole day shows the tooltip.
      s('rect', { x: x(i) - step / 2, y: pad.t, width: step, height: hgt, class: 'hit' }),
    );
    svg.append(g);
    if (i % Math.ceil(days.length / 10) === 0 || i === days.length - 1) {
      svg.append(s('text', { x: x(i), y: height - pad.b + 16, 'text-anchor': 'middle', class: 'axis' }, d.date.slice(5)));
    }
  });
  const points = days.map((d, i) => `${x(i).toFixed(1)},${yG(d.gmv_fen).toFixed(1)}`).join(' ');
  svg.append(s('polyline', { points, class: 'line-gmv' }));
  days.forEach((d, i) => {
    if (d.gmv_fen > 0) svg.append(s('circle', { cx: x(i), cy: yG(d.gmv_fen), r: 3, class: 'dot-gmv' }));
  });
  return svg;
}
