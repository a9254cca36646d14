// The audit log, read only: who changed prices, stock, orders, refunds and operators.

import { api, operatorNames } from '../api.js';
import { h, replace } from '../dom.js';
import { actorLabel, AUDIT_ACTIONS, label } from '../labels.js';
import { PERMS } from '../roles.js';
import { fmtTime } from '../time.js';
import { empty, errorBox, loading, pager, table } from '../ui.js';

const PER_PAGE = 30;
const TARGETS = [['', '全部对象'], ['product', '商品'], ['sku', '规格'], ['order', '订单'], ['refund', '退款'], ['operator', '操作员']];

function json(v) {
  if (v === null || v === undefined || (typeof v === 'object' && !Object.keys(v).length)) return '—';
  return h('pre', { class: 'json' }, JSON.stringify(v, null, 2));
}

/** The fields that differ between before and after, "price_fen: 5990 → 4990". */
function changes(before, after) {
  if (!before || !after || typeof before !== 'object' || typeof after !== 'object') return null;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const diff = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (!diff.length) return null;
  return h('ul', { class: 'changes' }, diff.map((k) => h('li', null, h('code', null, k), `: ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(after[k] ?? null)}`)));
}

export async function render(ctx) {
  const { root, query } = ctx;
  const state = { action: query.action ?? '', target_type: query.target_type ?? '', target_id: query.target_id ?? '', page: Number(query.page) || 1 };
  const operators = await operatorNames(ctx.session, ctx.can(PERMS.ManageOperators));

  const action = h('select', { name: 'action', 'data-testid': 'audit-action' }, h('option', { value: '' }, '全部操作'),
    Object.entries(AUDIT_ACTIONS).map(([v, l]) => h('option', { value: v, selected: v === state.action }, `${l}（${v}）`)));
  const targetType = h('select', { name: 'target_type' }, TARGETS.map(([v, l]) => h('option', { value: v, selected: v === state.target_type }, l)));
  const targetId = h('input', { type: 'search', name: 'target_id', placeholder: '对象编号', value: state.target_id });
  const filters = h('form', { class: 'filters', role: 'search' }, action, targetType, targetId, h('button', { class: 'btn btn-primary', type: 'submit' }, '查询'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    Object.assign(state, { action: action.value, target_type: targetType.value, target_id: targetId.value.trim(), page: 1 });
    load();
  });
  const list = h('div', { class: 'card' }, loading());
  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, '审计日志'), h('span', { class: 'muted' }, '只读；每条记录以 SHA-256 与上一条链接，可用 shop-admin audit verify 校验')),
    filters, list);

  async function load() {
    ctx.setQuery({ ...state, page: state.page > 1 ? state.page : '' });
    replace(list, loading());
    try {
      const page = await api.get('audit', { action: state.action, target_type: state.target_type, target_id: state.target_id, page: state.page, per_page: PER_PAGE });
      if (!ctx.isCurrent()) return;
      if (!page.items.length) {
        replace(list, empty('没有审计记录'));
        return;
      }
      replace(list,
        table([
          { label: '#', cls: 'num', render: (r) => r.seq },
          { label: '时间', render: (r) => h('span', { class: 'nowrap' }, fmtTime(r.at)) },
          { label: '操作人', render: (r) => actorLabel(r.actor, operators) },
          { label: '操作', render: (r) => [label(AUDIT_ACTIONS, r.action), h('br'), h('small', { class: 'mono muted' }, r.action)] },
          { label: '对象', render: (r) => h('span', { class: 'mono' }, `${r.target_type} #${r.target_id}`) },
          {
            label: '变更', render: (r) => [
              changes(r.before, r.after),
              h('details', null,
                h('summary', { class: 'muted' }, '原始记录'),
                h('div', { class: 'before-after' }, h('div', null, h('small', null, '之前'), json(r.before)), h('div', null, h('small', null, '之后'), json(r.after)))),
            ],
          },
          { label: '哈希', render: (r) => h('span', { class: 'mono muted', title: r.hash }, r.hash.slice(0, 10)) },
        ], page.items, { testid: 'audit-table', rowAttrs: (r) => ({ 'data-action': r.action }) }),
        pager(page, (n) => { state.page = n; load(); }));
    } catch (e) {
      replace(list, errorBox(e, load));
    }
  }
  load();
}
