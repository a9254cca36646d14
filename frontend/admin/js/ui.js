// Shared widgets: toasts, modal dialogs, the side drawer, pagination, badges.

import { h, replace } from './dom.js';

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(el);
  setTimeout(() => el.classList.add('toast-out'), kind === 'error' ? 6000 : 3000);
  setTimeout(() => el.remove(), kind === 'error' ? 6500 : 3500);
}

/** Shows an error from the API (or anything thrown) as a toast. */
export function toastError(e, prefix = '') {
  console.error(e);
  toast(`${prefix}${e?.display ?? e?.message ?? String(e)}`, 'error');
}

/**
 * A modal dialog with optional form fields.
 * fields: [{name, label, type: 'text'|'textarea'|'number'|'select'|'password'|'radio', value,
 *           options: [[value, label]], required, placeholder, maxlength, hint}]
 * validate(values) → error message or null. Resolves to the values (or true), or null when
 * cancelled.
 */
export function dialog({ title, message, fields = [], confirmText = '确定', cancelText = '取消', danger = false, validate, testid }) {
  return new Promise((resolve) => {
    const inputs = {};
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const body = fields.map((f) => {
      let input;
      if (f.type === 'textarea') {
        input = h('textarea', { name: f.name, rows: 3, maxlength: f.maxlength, placeholder: f.placeholder, required: f.required }, f.value ?? '');
      } else if (f.type === 'select') {
        input = h('select', { name: f.name }, f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)));
      } else if (f.type === 'radio') {
        input = h('div', { class: 'radios', role: 'radiogroup' },
          f.options.map(([v, l]) => h('label', { class: 'radio' },
            h('input', { type: 'radio', name: f.name, value: v, checked: v === f.value }), l)));
        input.getValue = () => input.querySelector('input:checked')?.value;
      } else {
        input = h('input', {
          name: f.name, type: f.type ?? 'text', value: f.value ?? '', placeholder: f.placeholder,
          maxlength: f.maxlength, required: f.required, autocomplete: f.type === 'password' ? 'new-password' : 'off',
          inputmode: f.inputmode,
        });
      }
      inputs[f.name] = input;
      return h('label', { class: 'field' }, h('span', { class: 'field-label' }, f.label, f.required ? h('em', null, ' *') : null), input,
        f.hint ? h('small', { class: 'hint' }, f.hint) : null);
    });
    const ok = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], 'data-testid': 'dialog-confirm' }, confirmText);
    const cancel = h('button', { type: 'button', class: 'btn', 'data-testid': 'dialog-cancel' }, cancelText);
    const form = h('form', { method: 'dialog', class: 'dialog-form', novalidate: true },
      h('h3', null, title),
      message ? h('div', { class: 'dialog-message' }, message) : null,
      body, error,
      h('div', { class: 'dialog-actions' }, cancel, ok));
    const dlg = h('dialog', { class: 'dialog', 'data-testid': testid ?? 'dialog' }, form);
    document.body.append(dlg);
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const values = {};
      for (const [k, el] of Object.entries(inputs)) values[k] = el.getValue ? el.getValue() : el.value;
      for (const f of fields) {
        if (f.required && !String(values[f.name] ?? '').trim()) {
          error.textContent = `请填写${f.label}`;
          error.hidden = false;
          inputs[f.name].focus?.();
          return;
        }
      }
      const msg = validate?.(values);
      if (msg) {
        error.textContent = msg;
        error.hidden = false;
        return;
      }
      finish(fields.length ? values : true);
    });
    dlg.showModal();
    (Object.values(inputs)[0] ?? ok).focus?.();
  });
}

export function confirmDialog(opts) {
  return dialog(opts).then((v) => v !== null);
}

/** The side drawer; returns {body, close, setTitle}. Only one is open at a time. */
let openDrawer = null;
export function drawer(title, { onClose, testid = 'drawer' } = {}) {
  openDrawer?.close();
  const titleEl = h('h2', null, title);
  const body = h('div', { class: 'drawer-body' }, h('p', { class: 'muted' }, '加载中…'));
  const closeBtn = h('button', { class: 'btn btn-icon', type: 'button', 'aria-label': '关闭', 'data-testid': 'drawer-close' }, '✕');
  const panel = h('aside', { class: 'drawer', role: 'dialog', 'aria-modal': 'true', 'data-testid': testid },
    h('header', { class: 'drawer-head' }, titleEl, closeBtn), body);
  const shade = h('div', { class: 'shade' });
  const onKey = (e) => {
    if (e.key === 'Escape' && !document.querySelector('dialog[open]')) handle.close();
  };
  const handle = {
    body,
    setTitle: (...t) => replace(titleEl, ...t),
    close() {
      panel.remove();
      shade.remove();
      document.removeEventListener('keydown', onKey);
      if (openDrawer === handle) openDrawer = null;
      onClose?.();
    },
  };
  closeBtn.addEventListener('click', () => handle.close());
  shade.addEventListener('click', () => handle.close());
  document.addEventListener('keydown', onKey);
  document.body.append(shade, panel);
  openDrawer = handle;
  return handle;
}

export function closeDrawer() {
  openDrawer?.close();
}

export function badge(text, tone = 'grey', testid) {
  return h('span', { class: `badge badge-${tone}`, 'data-testid': testid }, text);
}

/** Pagination bar for {total, page, per_page}. */
export function pager({ total, page, per_page: perPage }, go) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h('nav', { class: 'pager', 'aria-label': '分页' },
    h('span', { class: 'muted' }, `共 ${total} 条`),
    h('button', { class: 'btn btn-small', type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '上一页'),
    h('span', { 'data-testid': 'page-indicator' }, `第 ${page} / ${pages} 页`),
    h('button', { class: 'btn btn-small', type: 'button', disabled: page >= pages, onclick: () => go(page + 1) }, '下一页'));
}

export function loading() {
  return h('p', { class: 'muted loading' }, '加载中…');
}

export function empty(text = '暂无数据') {
  return h('p', { class: 'empty' }, text);
}

export function errorBox(e, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('p', null, e?.display ?? e?.message ?? String(e)),
    e?.requestId ? h('small', { class: 'muted' }, `请求编号 ${e.requestId}`) : null,
    retry ? h('button', { class: 'btn btn-small', type: 'button', onclick: retry }, '重试') : null);
}

/** A definition list from [label, value] pairs (null values skipped). */
export function dl(pairs, cls = 'kv') {
  return h('dl', { class: cls }, pairs.filter((p) => p && p[1] !== null && p[1] !== undefined).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function table(columns, rows, { rowAttrs, testid } = {}) {
  return h('table', { class: 'table', 'data-testid': testid },
    h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.cls }, c.label)))),
    h('tbody', null, rows.map((r, i) => h('tr', rowAttrs?.(r, i) ?? null, columns.map((c) => h('td', { class: c.cls, 'data-label': c.label }, c.render(r, i)))))));
}
