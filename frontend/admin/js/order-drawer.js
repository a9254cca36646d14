// The order drawer: items, address, amounts, payment and refund history; ship, cancel, and
// refund decisions for the roles allowed to make them.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { actorLabel, CANCEL_REASON, label, ORDER_STATUS, PAYMENT_STATUS } from './labels.js';
import { formatFen } from './money.js';
import { PERMS } from './roles.js';
import { fmtTime } from './time.js';
import { badge, dialog, dl, drawer, empty, errorBox, table, toast, toastError } from './ui.js';
import { refundActions, refundStatusBadge } from './refund-actions.js';

export const CARRIERS = ['顺丰速运', '京东物流', '中通快递', '圆通速递', '韵达快递', '申通快递', '极兔速递', '中国邮政 EMS'];

export function orderStatusBadge(status) {
  const tone = { PENDING_PAYMENT: 'orange', PAID: 'blue', SHIPPED: 'purple', COMPLETED: 'green', CANCELLED: 'grey', REFUNDED: 'red' }[status] ?? 'grey';
  return badge(label(ORDER_STATUS, status), tone, 'order-status');
}

/**
 * Opens the drawer of order `id`. `can(perm)` decides which actions show; `onChange` runs after
 * an action changed the order (to refresh the list behind).
 */
export function openOrder(id, { can, names, onChange } = {}) {
  const d = drawer('订单详情', { testid: 'order-drawer' });

  async function load() {
    replace(d.body, h('p', { class: 'muted' }, '加载中…'));
    try {
      const money = await api.get(`orders/${id}/money`);
      show(money);
    } catch (e) {
      replace(d.body, errorBox(e, load));
    }
  }

  async function changed(message) {
    if (message) toast(message);
    onChange?.();
    await load();
  }

  function show({ order: o, payment, refunds }) {
    d.setTitle('订单 ', h('span', { class: 'mono', 'data-testid': 'drawer-order-no' }, o.order_no), ' ', orderStatusBadge(o.status));
    const a = o.address;
    const sections = [];

    const actions = [];
    if (can?.(PERMS.ManageOrders) && o.status === 'PAID') actions.push(shipForm(o, changed));
    if (can?.(PERMS.ManageOrders) && o.status === 'PENDING_PAYMENT') {
      actions.push(h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'order-cancel', onclick: () => cancel(o, changed) }, '取消订单'));
    }
    if (actions.length) sections.push(h('section', { class: 'drawer-actions' }, actions));
    if (o.late_payment) sections.push(h('p', { class: 'notice notice-warn' }, '注意：该订单取消后才收到付款（迟到支付），请核对并按需退款。'));

    sections.push(h('section', null, h('h3', null, '商品'),
      table([
        { label: '商品', render: (l) => h('div', { class: 'line-item' }, l.cover_url ? h('img', { class: 'thumb', src: l.cover_url, alt: '' }) : null, h('span', null, l.title)) },
        { label: '规格', render: (l) => l.spec },
        { label: '单价', cls: 'num', render: (l) => formatFen(l.unit_price_fen) },
        { label: '数量', cls: 'num', render: (l) => l.quantity },
        { label: '小计', cls: 'num', render: (l) => formatFen(l.line_total_fen) },
      ], o.lines, { testid: 'order-lines' }),
      dl([
        ['商品合计', formatFen(o.items_total_fen)],
        ['运费', formatFen(o.shipping_fee_fen)],
        ['应付', h('strong', null, formatFen(o.payable_fen))],
        ['实付', formatFen(o.paid_fen)],
        o.refunded_fen ? ['已退款', formatFen(o.refunded_fen)] : null,
        o.refund_pending_fen ? ['退款处理中', formatFen(o.refund_pending_fen)] : null,
      ], 'kv kv-amounts')));

    sections.push(h('section', null, h('h3', null, '收货信息'),
      dl([
        ['收货人', a.receiver],
        ['电话', h('span', { class: 'mono' }, a.phone)],
        ['地址', `${a.province} ${a.city} ${a.district} ${a.detail}`],
        o.remark ? ['买家备注', o.remark] : null,
        o.user_id ? ['买家', `#${o.user_id}`] : null,
      ])));

    sections.push(h('section', null, h('h3', null, '进度'),
      dl([
        ['下单时间', fmtTime(o.created_at)],
        o.status === 'PENDING_PAYMENT' ? ['支付截止', fmtTime(o.expires_at)] : null,
        o.paid_at ? ['支付时间', fmtTime(o.paid_at)] : null,
        o.shipped_at ? ['发货时间', fmtTime(o.shipped_at)] : null,
        o.carrier ? ['物流', h('span', { 'data-testid': 'order-shipment' }, `${o.carrier} ${o.tracking_no ?? ''}`)] : null,
        o.completed_at ? ['完成时间', fmtTime(o.completed_at)] : null,
        o.cancelled_at ? ['取消时间', `${fmtTime(o.cancelled_at)}（${label(CANCEL_REASON, o.cancel_reason)}）`] : null,
      ])));

    sections.push(h('section', null, h('h3', null, '微信支付'),
      payment
        ? dl([
          ['商户订单号', h('span', { class: 'mono' }, payment.out_trade_no)],
          ['状态', label(PAYMENT_STATUS, payment.status)],
          ['金额', formatFen(payment.amount_fen)],
          payment.transaction_id ? ['微信支付单号', h('span', { class: 'mono' }, payment.transaction_id)] : null,
          payment.paid_at ? ['支付时间', fmtTime(payment.paid_at)] : null,
          payment.closed_at ? ['关闭时间', fmtTime(payment.closed_at)] : null,
          ['发起时间', fmtTime(payment.created_at)],
        ])
        : empty('尚未发起支付')));

    sections.push(h('section', { 'data-testid': 'order-refunds' }, h('h3', null, `退款记录（${refunds.length}）`),
      refunds.length
        ? table([
          { label: '退款单号', render: (r) => h('span', { class: 'mono' }, r.out_refund_no) },
          { label: '金额', cls: 'num', render: (r) => formatFen(r.amount_fen) },
          { label: '原因', render: (r) => r.reason },
          { label: '状态', render: (r) => refundStatusBadge(r.status) },
          { label: '申请', render: (r) => [h('span', { class: 'nowrap' }, fmtTime(r.requested_at)), h('br'), h('small', { class: 'muted' }, actorLabel(r.requested_by, names))] },
          { label: '处理', render: (r) => (r.decided_at ? [h('span', { class: 'nowrap' }, fmtTime(r.decided_at)), h('br'), h('small', { class: 'muted' }, actorLabel(r.decided_by, names))] : '—') },
          { label: '备注', render: (r) => r.decision_note ?? r.failure ?? (r.succeeded_at ? `到账 ${fmtTime(r.succeeded_at)}` : '—') },
          { label: '操作', cls: 'actions', render: (r) => refundActions(r, { can, orderNo: o.order_no, onDone: changed }) },
        ], refunds, { testid: 'order-refund-table', rowAttrs: (r) => ({ 'data-refund-id': r.id }) })
        : empty('没有退款')));

    replace(d.body, sections);
  }

  load();
  return d;
}

function shipForm(o, changed) {
  const carrier = h('input', { name: 'carrier', list: 'carrier-list', placeholder: '物流公司', maxlength: 30, 'data-testid': 'ship-carrier' });
  const tracking = h('input', { name: 'tracking_no', placeholder: '运单号', maxlength: 40, 'data-testid': 'ship-tracking' });
  const error = h('span', { class: 'form-error', hidden: true, role: 'alert' });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'ship-submit' }, '发货');
  const form = h('form', { class: 'ship-form', 'data-testid': 'ship-form' },
    h('strong', null, '发货'),
    carrier,
    h('datalist', { id: 'carrier-list' }, CARRIERS.map((c) => h('option', { value: c }))),
    tracking, btn, error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = carrier.value.trim();
    const t = tracking.value.trim();
    const bad = !c ? '请填写物流公司' : [...c].length > 30 ? '物流公司最多 30 个字'
      : [...t].length < 4 || [...t].length > 40 ? '运单号须为 4–40 个字符' : null;
    if (bad) {
      error.textContent = bad;
      error.hidden = false;
      return;
    }
    btn.disabled = true;
    try {
      await api.post(`orders/${o.id}/ship`, { carrier: c, tracking_no: t });
      await changed(`订单 ${o.order_no} 已发货`);
    } catch (err) {
      error.textContent = err.display ?? err.message;
      error.hidden = false;
      btn.disabled = false;
    }
  });
  return form;
}

async function cancel(o, changed) {
  const v = await dialog({
    title: '取消订单',
    message: `订单 ${o.order_no}（应付 ${formatFen(o.payable_fen)}）尚未支付。取消后库存归还，微信支付单将关闭。`,
    fields: [{ name: 'reason', label: '取消原因（记入审计日志）', type: 'textarea', required: true, maxlength: 200, placeholder: '例如：买家电话要求取消' }],
    confirmText: '确认取消', cancelText: '返回', danger: true, testid: 'cancel-dialog',
  });
  if (!v) return;
  try {
    await api.post(`orders/${o.id}/cancel`, { reason: v.reason.trim() });
    await changed(`订单 ${o.order_no} 已取消`);
  } catch (e) {
    toastError(e, '取消失败：');
  }
}
