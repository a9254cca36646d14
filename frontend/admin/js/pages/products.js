// Products: search, status filter, paged list, on/off sale.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { PRODUCT_STATUS } from '../labels.js';
import { formatFen } from '../money.js';
import { PERMS } from '../roles.js';
import { fmtTime } from '../time.js';
import { badge, empty, errorBox, loading, pager, table, toast, toastError } from '../ui.js';

const PER_PAGE = 20;

export async function render(ctx) {
  const { root, query } = ctx;
  const canEdit = ctx.can(PERMS.ManageCatalogue);
  const state = { q: query.q ?? '', status: query.status ?? '', page: Number(query.page) || 1 };

  const q = h('input', { type: 'search', name: 'q', placeholder: '按商品名称搜索', value: state.q, 'data-testid': 'product-search' });
  const status = h('select', { name: 'status', 'data-testid': 'product-status-filter' },
    h('option', { value: '' }, '全部状态'),
    Object.entries(PRODUCT_STATUS).map(([v, l]) => h('option', { value: v, selected: v === state.status }, l)));
  const list = h('div', { class: 'card' }, loading());

  const filters = h('form', { class: 'filters', role: 'search' }, q, status,
    h('button', { class: 'btn', type: 'submit' }, '查询'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    state.q = q.value.trim();
    state.status = status.value;
    state.page = 1;
    load();
  });
  status.addEventListener('change', () => filters.requestSubmit());

  replace(root,
    h('div', { class: 'page-head' },
      h('h1', null, '商品管理'),
      canEdit ? h('a', { class: 'btn btn-primary', href: '#/products/new', 'data-testid': 'new-product' }, '＋ 新建商品') : null),
    filters, list);

  async function setStatus(p, onSale) {
    try {
      await api.post(`products/${p.id}/${onSale ? 'on-sale' : 'off-sale'}`);
      toast(onSale ? `「${p.title}」已上架` : `「${p.title}」已下架`);
      load();
    } catch (e) {
      toastError(e);
    }
  }

  async function load() {
    ctx.setQuery({ q: state.q, status: state.status, page: state.page > 1 ? state.page : '' });
    replace(list, loading());
    try {
      const page = await api.get('products', { q: state.q, status: state.status, page: state.page, per_page: PER_PAGE });
      if (!ctx.isCurrent()) return;
      if (!page.items.length) {
        replace(list, empty(state.q || state.status ? '没有符合条件的商品' : '还没有商品'));
        return;
      }
      replace(list,
        table([
          { label: '图片', cls: 'col-thumb', render: (p) => (p.cover_url ? h('img', { class: 'thumb', src: p.cover_url, alt: '', loading: 'lazy' }) : h('span', { class: 'thumb thumb-none' }, '无图')) },
          { label: '商品', render: (p) => h('a', { href: `#/products/${p.id}`, class: 'strong' }, p.title) },
          { label: '状态', render: (p) => badge(PRODUCT_STATUS[p.status] ?? p.status, p.status === 'ON_SALE' ? 'green' : 'grey') },
          { label: '最低价', cls: 'num', render: (p) => formatFen(p.min_price_fen) },
          { label: '库存', render: (p) => (p.in_stock ? badge('有货', 'green') : badge('缺货', 'red')) },
          { label: '排序', cls: 'num', render: (p) => p.sort },
          { label: '更新时间', render: (p) => fmtTime(p.updated_at) },
          {
            label: '操作', cls: 'actions', render: (p) => [
              h('a', { class: 'btn btn-small', href: `#/products/${p.id}` }, canEdit ? '编辑' : '查看'),
              canEdit
                ? p.status === 'ON_SALE'
                  ? h('button', { class: 'btn btn-small', type: 'button', onclick: () => setStatus(p, false) }, '下架')
                  : h('button', { class: 'btn btn-small btn-primary', type: 'button', onclick: () => setStatus(p, true) }, '上架')
                : null,
            ],
          },
        ], page.items, { testid: 'product-table', rowAttrs: (p) => ({ 'data-product-id': p.id }) }),
        pager(page, (n) => { state.page = n; load(); }));
    } catch (e) {
      replace(list, errorBox(e, load));
    }
  }
  load();
}
