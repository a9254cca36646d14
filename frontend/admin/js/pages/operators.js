// Operator accounts (admin only): create, change role, disable, reset password.

import { api, forgetOperatorNames } from '../api.js';
import { h, replace } from '../dom.js';
import { ROLE_LABELS } from '../roles.js';
import { badge, dialog, empty, errorBox, loading, table, toast, toastError } from '../ui.js';

const ROLES = Object.entries(ROLE_LABELS);
const ROLE_HELP = '管理员：全部权限；运营：商品、订单、发货；财务：退款审核、报表、对账、审计。';

function validPassword(p) {
  return [...p].length >= 10 ? null : '密码至少 10 个字符';
}

export async function render(ctx) {
  const { root, session } = ctx;
  const list = h('div', { class: 'card' }, loading());
  const createBtn = h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'operator-new' }, '＋ 新建操作员');
  replace(root, h('div', { class: 'page-head' }, h('h1', null, '操作员'), createBtn), h('p', { class: 'hint' }, ROLE_HELP), list);

  createBtn.addEventListener('click', async () => {
    const v = await dialog({
      title: '新建操作员',
      fields: [
        { name: 'username', label: '用户名', required: true, maxlength: 32, hint: '3–32 位字母、数字、- _ .' },
        { name: 'password', label: '初始密码', type: 'password', required: true, hint: '至少 10 个字符' },
        { name: 'role', label: '角色', type: 'select', value: 'operator', options: ROLES },
      ],
      validate: (x) => (!/^[A-Za-z0-9._-]{3,32}$/.test(x.username.trim()) ? '用户名须为 3–32 位字母、数字、- _ .' : validPassword(x.password)),
      confirmText: '创建', testid: 'operator-dialog',
    });
    if (!v) return;
    try {
      await api.post('operators', { username: v.username.trim(), password: v.password, role: v.role });
      toast(`已创建操作员 ${v.username.trim()}`);
      load();
    } catch (e) {
      toastError(e, '创建失败：');
    }
  });

  async function patch(o, body, message) {
    try {
      await api.patch(`operators/${o.id}`, body);
      toast(message);
    } catch (e) {
      toastError(e);
    }
    load();
  }

  async function load() {
    forgetOperatorNames();
    replace(list, loading());
    try {
      const ops = await api.get('operators');
      if (!ctx.isCurrent()) return;
      if (!ops.length) {
        replace(list, empty());
        return;
      }
      replace(list, table([
        { label: '#', cls: 'num', render: (o) => o.id },
        { label: '用户名', render: (o) => [o.username, o.id === session.operator.id ? h('small', { class: 'muted' }, '（我）') : null] },
        {
          label: '角色', render: (o) => {
            const sel = h('select', { disabled: o.id === session.operator.id, 'aria-label': `${o.username} 的角色` },
              ROLES.map(([v, l]) => h('option', { value: v, selected: v === o.role }, l)));
            sel.addEventListener('change', () => patch(o, { role: sel.value }, `${o.username} 的角色已改为${ROLE_LABELS[sel.value]}`));
            return sel;
          },
        },
        { label: '状态', render: (o) => (o.disabled ? badge('已停用', 'grey') : badge('正常', 'green')) },
        {
          label: '操作', cls: 'actions', render: (o) => [
            o.id === session.operator.id ? null : h('button', {
              type: 'button', class: 'btn btn-small',
              onclick: () => patch(o, { disabled: !o.disabled }, o.disabled ? `已启用 ${o.username}` : `已停用 ${o.username}`),
            }, o.disabled ? '启用' : '停用'),
            h('button', {
              type: 'button', class: 'btn btn-small',
              onclick: async () => {
                const v = await dialog({
                  title: `重置 ${o.username} 的密码`,
                  fields: [{ name: 'password', label: '新密码', type: 'password', required: true, hint: '至少 10 个字符' }],
                  validate: (x) => validPassword(x.password), confirmText: '重置',
                });
                if (v) patch(o, { password: v.password }, `已重置 ${o.username} 的密码`);
              },
            }, '重置密码'),
          ],
        },
      ], ops, { testid: 'operator-table' }));
    } catch (e) {
      replace(list, errorBox(e, load));
    }
  }
  load();
}
