// Overview: today's orders, paid orders, GMV and payment success rate; 30 days of orders and
// GMV; the work waiting (orders to ship, refunds to decide); recent reconciliation results.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { ordersGmvChart } from '../chart.js';
import { formatFen, percent } from '../money.js';
import { PERMS } from '../roles.js';
import { addDays, cnDate } from '../time.js';
import { empty, errorBox, loading, table } from '../ui.js';
import { reconSummaryTable } from './reconciliation.js';

function stat(label, value, testid, sub) {
  return h('div', { class: 'stat', 'data-testid': testid },
    h('span', { class: 'stat-label' }, label),
    h('strong', { class: 'stat-value' }, value),
    sub ? h('small', { class: 'muted' }, sub) : null);
}

export async function render(ctx) {
  const { root } = ctx;
  const today = cnDate();
  const from = addDays(today, -29);
  const reports = ctx.can(PERMS.ViewReports);

  const todo = h('section', { class: 'stats' }, loading());
  const todayBox = h('section', { class: 'stats', 'data-testid': 'today-stats' }, reports ? loading() : null);
  const chartBox = h('section', { class: 'card' }, loading());
  const topBox = h('section', { class: 'card' }, loading());
  const reconBox = h('section', { class: 'card' }, loading());

  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, '概览'), h('span', { class: 'muted' }, `今天 ${today}（北京时间）`)),
    reports ? [h('h2', { class: 'section-title' }, '今日'), todayBox] : null,
    h('h2', { class: 'section-title' }, '待办'), todo,
    reports ? [
      h('h2', { class: 'section-title' }, '近 30 天'), chartBox,
      h('div', { class: 'grid-2' }, topBox, reconBox),
    ] : null);

  // Work waiting: everyone who sees orders.
  (async () => {
    try {
      const [toShip, unpaid, refunds, todays] = await Promise.all([
        api.get('orders', { status: 'PAID', per_page: 1 }),
        api.get('orders', { status: 'PENDING_PAYMENT', per_page: 1 }),
        api.get('refunds', { status: 'REQUESTED', per_page: 1 }),
        reports ? null : api.get('orders', { from: today, to: today, per_page: 1 }),
      ]);
      replace(todo,
        todays ? stat('今日订单', String(todays.total), 'stat-today-orders-op') : null,
        h('a', { href: '#/orders?status=PAID', class: 'stat-link' }, stat('待发货', String(toShip.total), 'stat-to-ship')),
        h('a', { href: '#/orders?status=PENDING_PAYMENT', class: 'stat-link' }, stat('待付款', String(unpaid.total), 'stat-unpaid')),
        h('a', { href: '#/refunds?status=REQUESTED', class: 'stat-link' }, stat('待审核退款', String(refunds.total), 'stat-refunds-waiting')));
    } catch (e) {
      replace(todo, errorBox(e));
    }
  })();

  if (!reports) return;

  try {
    const [month, recon] = await Promise.all([
      api.get('reports/daily', { from, to: today }),
      api.get('reconciliation').catch((e) => ({ error: e })),
    ]);
    if (!ctx.isCurrent()) return;
    const d = month.days.find((x) => x.date === today) ?? { orders: 0, paid_orders: 0, gmv_fen: 0, aov_fen: 0, refunds_fen: 0, refund_count: 0 };
    replace(todayBox,
      stat('今日订单', String(d.orders), 'stat-orders'),
      stat('已支付订单', String(d.paid_orders), 'stat-paid'),
      stat('成交额（GMV）', formatFen(d.gmv_fen), 'stat-gmv', d.paid_orders ? `客单价 ${formatFen(d.aov_fen)}` : null),
      stat('支付成功率', percent(d.paid_orders, d.orders), 'stat-rate', '已支付 ÷ 下单'),
      stat('今日退款', formatFen(d.refunds_fen), 'stat-refunds', `${d.refund_count} 笔`));

    replace(chartBox,
      h('div', { class: 'section-head' },
        h('h3', null, '订单与成交额'),
        h('div', { class: 'legend' },
          h('span', { class: 'swatch swatch-orders' }), '下单',
          h('span', { class: 'swatch swatch-paid' }), '已支付',
          h('span', { class: 'swatch swatch-gmv' }), '成交额（右轴）')),
      ordersGmvChart(month.days),
      h('div', { class: 'totals', 'data-testid': 'month-totals' },
        h('span', null, `订单 ${month.total_orders}`),
        h('span', null, `已支付 ${month.total_paid_orders}`),
        h('span', null, `成交额 ${formatFen(month.total_gmv_fen)}`),
        h('span', null, `支付成功率 ${percent(month.total_paid_orders, month.total_orders)}`),
        h('span', null, `退款 ${formatFen(month.total_refunds_fen)}`)));

    replace(topBox, h('h3', null, '热销规格（近 30 天）'),
      month.top_skus.length
        ? table([
          { label: '商品', render: (t) => t.title },
          { label: '规格', render: (t) => t.spec },
          { label: '销量', cls: 'num', render: (t) => t.quantity },
          { label: '销售额', cls: 'num', render: (t) => formatFen(t.revenue_fen) },
        ], month.top_skus, { testid: 'top-skus' })
        : empty('近 30 天没有销售'));

    const recent = recon.error ? null : recon.slice(0, 7);
    replace(reconBox, h('div', { class: 'section-head' }, h('h3', null, '近期对账'), h('a', { href: '#/reconciliation' }, '全部 ›')),
      recon.error ? errorBox(recon.error)
        : recent.length ? reconSummaryTable(recent, { compact: true })
          : empty('还没有对账结果（每天早上核对前一天的微信账单）'));
  } catch (e) {
    replace(todayBox, errorBox(e, () => render(ctx)));
    replace(chartBox, '');
    replace(topBox, '');
    replace(reconBox, '');
  }
}
