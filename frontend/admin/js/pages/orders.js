// Orders: filters, paged table, detail drawer, CSV export.

import { api, download, operatorNames } from '../api.js';
import { h, replace } from '../dom.js';
import { ORDER_STATUS } from '../labels.js';
import { formatFen } from '../money.js';
import { openOrder, orderStatusBadge } from '../order-drawer.js';
import { PERMS } from '../roles.js';
import { addDays, cnDate, fmtTime, isDate } from '../time.js';
import { empty, errorBox, loading, pager, table, toast, toastError } from '../ui.js';

const PER_PAGE = 20;
const FILTERS = ['status', 'from', 'to', 'order_no', 'phone'];

export async function render(ctx) {
  const { root, query } = ctx;
  const state = Object.fromEntries(FILTERS.map((k) => [k, query[k] ?? '']));
  state.page = Number(query.page) || 1;

  const inputs = {
    status: h('select', { name: 'status', 'data-testid': 'order-status-filter' },
      h('option', { value: '' }, '全部状态'),
      Object.entries(ORDER_STATUS).map(([v, l]) => h('option', { value: v, selected: v === state.status }, l))),
    from: h('input', { type: 'date', name: 'from', value: state.from, 'aria-label': '开始日期', 'data-testid': 'order-from' }),
    to: h('input', { type: 'date', name: 'to', value: state.to, 'aria-label': '结束日期', 'data-testid': 'order-to' }),
    order_no: h('input', { type: 'search', name: 'order_no', value: state.order_no, placeholder: '订单号', 'data-testid': 'order-no-filter' }),
    phone: h('input', { type: 'search', name: 'phone', value: state.phone, placeholder: '收货人手机号', inputmode: 'tel', 'data-testid': 'order-phone-filter' }),
  };
  const filterError = h('span', { class: 'form-error', hidden: true, role: 'alert' });
  const filters = h('form', { class: 'filters', role: 'search', 'data-testid': 'order-filters' },
    inputs.status,
    h('span', { class: 'range' }, inputs.from, h('span', null, '至'), inputs.to),
    inputs.order_no, inputs.phone,
    h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': 'order-search' }, '查询'),
    h('button', { class: 'btn', type: 'button', onclick: () => { for (const k of FILTERS) inputs[k].value = ''; filters.requestSubmit(); } }, '重置'),
    filterError);
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = Object.fromEntries(FILTERS.map((k) => [k, inputs[k].value.trim()]));
    const bad = next.from && next.to && next.from > next.to ? '开始日期不能晚于结束日期'
      : next.phone && !/^(\+?86)?1[3-9]\d{9}$/.test(next.phone.replace(/[\s-]/g, '')) ? '手机号须为 11 位大陆手机号' : null;
    filterError.textContent = bad ?? '';
    filterError.hidden = !bad;
    if (bad) return;
    Object.assign(state, next, { page: 1 });
    load();
  });

  const exportBtn = h('button', { class: 'btn', type: 'button', 'data-testid': 'order-export' }, '导出 CSV');
  exportBtn.addEventListener('click', async () => {
    // The export needs a date range: the filter's, or the last 30 days.
    const to = isDate(inputs.to.value) ? inputs.to.value : cnDate();
    const from = isDate(inputs.from.value) ? inputs.from.value : addDays(to, -29);
    exportBtn.disabled = true;
    exportBtn.textContent = '导出中…';
    try {
      const { name, size } = await download('orders/export.csv', { from, to, status: inputs.status.value }, `orders-${from}-${to}.csv`);
      toast(`已导出 ${name}（${Math.max(1, Math.round(size / 1024))} KB）`);
    } catch (e) {
      toastError(e, '导出失败：');
    } finally {
      exportBtn.disabled = false;
      exportBtn.textContent = '导出 CSV';
    }
  });

  const list = h('div', { class: 'card' }, loading());
  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, '订单管理'),
      h('div', { class: 'head-actions' }, h('small', { class: 'muted' }, '导出按所选日期（未选则近 30 天）和状态，每个商品一行'), exportBtn)),
    filters, list);

  const names = await operatorNames(ctx.session, ctx.can(PERMS.ManageOperators));
  const open = (o) => openOrder(o.id, { can: ctx.can, names, onChange: load });

  async function load() {
    ctx.setQuery({ ...Object.fromEntries(FILTERS.map((k) => [k, state[k]])), page: state.page > 1 ? state.page : '' });
    replace(list, loading());
    try {
      const page = await api.get('orders', { ...Object.fromEntries(FILTERS.map((k) => [k, state[k]])), page: state.page, per_page: PER_PAGE });
      if (!ctx.isCurrent()) return;
      if (!page.items.length) {
        replace(list, empty('没有符合条件的订单'));
        return;
      }
      replace(list,
        table([
          { label: '订单号', render: (o) => h('button', { type: 'button', class: 'link mono', onclick: () => open(o) }, o.order_no) },
          { label: '下单时间', render: (o) => h('span', { class: 'nowrap' }, fmtTime(o.created_at)) },
          { label: '状态', render: (o) => orderStatusBadge(o.status) },
          { label: '商品', render: (o) => o.lines.map((l) => `${l.title}（${l.spec}）×${l.quantity}`).join('；') },
          { label: '收货人', render: (o) => [o.address.receiver, h('br'), h('small', { class: 'mono muted' }, o.address.phone)] },
          { label: '应付', cls: 'num', render: (o) => formatFen(o.payable_fen) },
          { label: '退款', cls: 'num', render: (o) => (o.refunded_fen || o.refund_pending_fen ? formatFen(o.refunded_fen + o.refund_pending_fen) : '—') },
          { label: '操作', cls: 'actions', render: (o) => h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'order-open', onclick: () => open(o) }, '详情') },
        ], page.items, { testid: 'order-table', rowAttrs: (o) => ({ 'data-order-no': o.order_no, 'data-order-id': o.id }) }),
        pager(page, (n) => { state.page = n; load(); }));
    } catch (e) {
      replace(list, errorBox(e, load));
    }
  }
  await load();
  if (query.open) openOrder(query.open, { can: ctx.can, names, onChange: load });
}
