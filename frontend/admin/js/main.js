// The console's shell: login, role-aware menu, hash routes.

import { api, clearSession, getSession, setSession, updateOperator } from './api.js';
import { h, replace } from './dom.js';
import { can, menuFor, ROLE_LABELS, PERMS } from './roles.js';
import { closeDrawer, errorBox, toastError } from './ui.js';

const ROUTES = {
  dashboard: { perm: PERMS.ViewOrders, load: () => import('./pages/dashboard.js') },
  products: { perm: PERMS.ViewOrders, load: () => import('./pages/products.js') },
  'products/new': { perm: PERMS.ManageCatalogue, load: () => import('./pages/product-edit.js') },
  'products/:id': { perm: PERMS.ViewOrders, load: () => import('./pages/product-edit.js') },
  orders: { perm: PERMS.ViewOrders, load: () => import('./pages/orders.js') },
  refunds: { perm: PERMS.ViewOrders, load: () => import('./pages/refunds.js') },
  reconciliation: { perm: PERMS.ViewReports, load: () => import('./pages/reconciliation.js') },
  audit: { perm: PERMS.ViewAudit, load: () => import('./pages/audit.js') },
  operators: { perm: PERMS.ManageOperators, load: () => import('./pages/operators.js') },
};

const app = document.getElementById('app');
let cleanup = null;
let renderSeq = 0;

/** `#/orders?status=PAID` → {path: 'orders', query: {status: 'PAID'}}. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  return { path: path || 'dashboard', query: Object.fromEntries(new URLSearchParams(qs ?? '')) };
}

export function navigate(path, query) {
  const qs = new URLSearchParams(Object.entries(query ?? {}).filter(([, v]) => v !== '' && v != null)).toString();
  const target = `#/${path}${qs ? `?${qs}` : ''}`;
  if (location.hash === target) render();
  else location.hash = target;
}

/** Replaces the query of the current route without re-rendering (filters, pages). */
export function setQuery(query) {
  const { path } = parseHash();
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)).toString();
  history.replaceState(null, '', `#/${path}${qs ? `?${qs}` : ''}`);
}

function match(path) {
  for (const [pattern, route] of Object.entries(ROUTES)) {
    const p = pattern.split('/');
    const a = path.split('/');
    if (p.length !== a.length) continue;
    const params = {};
    if (p.every((seg, i) => (seg.startsWith(':') ? ((params[seg.slice(1)] = a[i]), true) : seg === a[i]))) {
      return { route, params, pattern };
    }
  }
  return null;
}

function loginView(message) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: !message, 'data-testid': 'login-error' }, message ?? '');
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit', 'data-testid': 'login-submit' }, '登录');
  const form = h('form', { class: 'login-card', novalidate: true },
    h('div', { class: 'brand brand-large' }, h('span', { class: 'logo' }, '稻'), h('div', null, h('strong', null, '五常大米'), h('small', null, '运营后台'))),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, '用户名'), user),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, '密码'), pass),
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!user.value.trim() || !pass.value) {
      error.textContent = '请输入用户名和密码';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = '登录中…';
    try {
      const login = await api.login(user.value.trim(), pass.value);
      setSession(login);
      if (!location.hash || location.hash === '#/' || location.hash.startsWith('#/login')) {
        location.hash = '#/dashboard'; // hashchange renders
      } else {
        render();
      }
    } catch (err) {
      error.textContent = err.code === 'INVALID_CREDENTIALS' || err.status === 401 ? '用户名或密码错误，或账号已停用' : err.display;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = '登录';
    }
  });
  replace(app, h('main', { class: 'login-page' }, form));
  user.focus();
}

function shell(session, active) {
  const op = session.operator;
  const nav = h('nav', { class: 'menu', 'aria-label': '主菜单', 'data-testid': 'menu' },
    menuFor(op.role).map((m) => h('a', {
      href: `#/${m.route}`,
      class: ['menu-item', active === m.route ? 'active' : ''],
      'data-route': m.route,
      'aria-current': active === m.route ? 'page' : null,
    }, h('span', { class: 'menu-icon', 'aria-hidden': 'true' }, m.icon), m.label)));
  const logout = h('button', { class: 'btn btn-small', type: 'button', 'data-testid': 'logout' }, '退出');
  logout.addEventListener('click', () => {
    clearSession();
    closeDrawer();
    location.hash = '#/login';
    render();
  });
  const content = h('main', { class: 'content', id: 'content' });
  replace(app, h('div', { class: 'layout' },
    h('header', { class: 'topbar' },
      h('div', { class: 'brand' }, h('span', { class: 'logo' }, '稻'), h('strong', null, '五常大米 · 运营后台')),
      h('div', { class: 'who' },
        h('span', { 'data-testid': 'who' }, op.username),
        h('span', { class: 'badge badge-blue', 'data-testid': 'role' }, ROLE_LABELS[op.role] ?? op.role),
        logout)),
    h('div', { class: 'body' }, nav, content)));
  return content;
}

async function render() {
  const seq = ++renderSeq;
  cleanup?.();
  cleanup = null;
  closeDrawer();
  const session = getSession();
  const { path, query } = parseHash();
  if (!session || path === 'login') {
    if (session && path === 'login') {
      location.hash = '#/dashboard';
      return;
    }
    loginView(query.expired ? '登录已失效，请重新登录' : null);
    return;
  }
  const found = match(path);
  const active = path.split('/')[0];
  const content = shell(session, active);
  if (!found) {
    replace(content, h('div', { class: 'error-box' }, h('p', null, '页面不存在'), h('a', { href: '#/dashboard' }, '返回概览')));
    return;
  }
  if (!can(session.operator.role, found.route.perm)) {
    replace(content, h('div', { class: 'error-box', 'data-testid': 'forbidden' }, h('p', null, '当前角色无权访问此页面。')));
    return;
  }
  try {
    const mod = await found.route.load();
    if (seq !== renderSeq) return;
    const ctx = {
      root: content,
      session,
      role: session.operator.role,
      can: (perm) => can(session.operator.role, perm),
      params: found.params,
      query,
      navigate,
      setQuery,
      isCurrent: () => seq === renderSeq,
    };
    cleanup = (await mod.render(ctx)) ?? null;
  } catch (e) {
    if (seq !== renderSeq) return;
    toastError(e);
    replace(content, errorBox(e, render));
  }
}

window.addEventListener('hashchange', render);
window.addEventListener('session-expired', () => {
  closeDrawer();
  for (const d of document.querySelectorAll('dialog')) d.remove();
  location.hash = '#/login?expired=1';
  render();
});

// A stored session may be stale (role changed, account disabled): confirm it once at start.
(async () => {
  if (getSession()) {
    try {
      updateOperator(await api.get('me'));
    } catch {
      /* 401 clears the session; other errors: keep going */
    }
  }
  render();
})();
