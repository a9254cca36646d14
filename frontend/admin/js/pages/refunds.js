// The refund queue: requests waiting for finance first; approve / reject with confirmation,
// retry failed ones, and the status of every refund.

import { api, operatorNames } from '../api.js';
import { h, replace } from '../dom.js';
import { actorLabel } from '../labels.js';
import { formatFen } from '../money.js';
import { openOrder } from '../order-drawer.js';
import { refundActions, refundStatusBadge } from '../refund-actions.js';
import { PERMS } from '../roles.js';
import { fmtTime } from '../time.js';
import { empty, errorBox, loading, pager, table, toast } from '../ui.js';

const PER_PAGE = 20;
const TABS = [['REQUESTED', '待审核'], ['PROCESSING', '退款中'], ['FAILED', '失败'], ['SUCCEEDED', '已退款'], ['REJECTED', '已拒绝'], ['', '全部']];

export async function render(ctx) {
  const { root, query } = ctx;
  const state = { status: query.status ?? 'REQUESTED', page: Number(query.page) || 1 };
  const decide = ctx.can(PERMS.DecideRefunds);
  const orderNos = new Map();
  const names = await operatorNames(ctx.session, ctx.can(PERMS.ManageOperators));

  const tabs = h('div', { class: 'tabs', role: 'tablist', 'data-testid': 'refund-tabs' });
  const list = h('div', { class: 'card' }, loading());
  function drawTabs() {
    replace(tabs, TABS.map(([v, l]) => h('button', {
      type: 'button', role: 'tab', class: ['tab', state.status === v ? 'active' : ''], 'aria-selected': String(state.status === v),
      'data-status': v || 'ALL', onclick: () => { state.status = v; state.page = 1; drawTabs(); load(); },
    }, l)));
  }
  drawTabs();

  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, '退款审核'),
      h('button', { class: 'btn', type: 'button', onclick: () => load() }, '刷新')),
    decide ? null : h('p', { class: 'notice', 'data-testid': 'refund-readonly' }, '当前角色只能查看退款进度；审核由财务或管理员处理。'),
    tabs, list);

  async function orderNo(orderId) {
    if (!orderNos.has(orderId)) {
      orderNos.set(orderId, api.get(`orders/${orderId}`).then((o) => o.order_no).catch(() => `#${orderId}`));
    }
    return orderNos.get(orderId);
  }

  async function load() {
    ctx.setQuery({ status: state.status || 'ALL', page: state.page > 1 ? state.page : '' });
    replace(list, loading());
    try {
      const status = state.status === 'ALL' ? '' : state.status;
      const page = await api.get('refunds', { status, page: state.page, per_page: PER_PAGE });
      const nos = await Promise.all(page.items.map((r) => orderNo(r.order_id)));
      if (!ctx.isCurrent()) return;
      if (!page.items.length) {
        replace(list, empty(state.status === 'REQUESTED' ? '没有待审核的退款申请' : '没有退款记录'));
        return;
      }
      const done = async (message) => {
        if (message) toast(message);
        await load();
      };
      replace(list,
        table([
          { label: '退款单号', render: (r) => h('span', { class: 'mono' }, r.out_refund_no) },
          { label: '订单', render: (r, i) => h('button', { type: 'button', class: 'link mono', 'data-testid': 'refund-order', onclick: () => openOrder(r.order_id, { can: ctx.can, names, onChange: load }) }, nos[i]) },
          { label: '金额', cls: 'num', render: (r) => h('strong', null, formatFen(r.amount_fen)) },
          { label: '原因', render: (r) => r.reason },
          { label: '状态', render: (r) => refundStatusBadge(r.status) },
          { label: '申请时间', render: (r) => [h('span', { class: 'nowrap' }, fmtTime(r.requested_at)), h('br'), h('small', { class: 'muted' }, actorLabel(r.requested_by, names))] },
          { label: '处理', render: (r) => (r.decided_at ? [h('span', { class: 'nowrap' }, fmtTime(r.decided_at)), h('br'), h('small', { class: 'muted' }, actorLabel(r.decided_by, names))] : '—') },
          { label: '说明', render: (r) => r.decision_note ?? r.failure ?? (r.succeeded_at ? `到账 ${fmtTime(r.succeeded_at)}` : '—') },
          decide ? { label: '操作', cls: 'actions', render: (r, i) => refundActions(r, { can: ctx.can, orderNo: nos[i], onDone: done }) } : null,
        ].filter(Boolean), page.items, { testid: 'refund-table', rowAttrs: (r, i) => ({ 'data-refund-id': r.id, 'data-order-no': nos[i], 'data-status': r.status }) }),
        pager(page, (n) => { state.page = n; load(); }));
    } catch (e) {
      replace(list, errorBox(e, load));
    }
  }
  if (state.status === 'ALL') state.status = '';
  drawTabs();
  load();
}
