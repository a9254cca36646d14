// Create or edit a product: title, description, pictures (drag and drop, preview, order), SKUs
// with prices typed in yuan (kept as integer fen), stock changes with a reason, on/off sale.

import { api, mediaPath } from '../api.js';
import { h, replace } from '../dom.js';
import { PRODUCT_STATUS } from '../labels.js';
import { fenToYuan, formatFen, parseYuan } from '../money.js';
import { PERMS } from '../roles.js';
import { fmtTime } from '../time.js';
import { badge, confirmDialog, dialog, toast, toastError } from '../ui.js';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const MAX_IMAGES = 20;
let keySeq = 0;
const nextKey = () => `k${++keySeq}`;

/** Characters as the server counts them (Unicode scalar values). */
const chars = (s) => [...s].length;

function skuState(s) {
  return {
    key: nextKey(),
    id: s?.id ?? null,
    spec: s?.spec ?? '',
    price: s ? fenToYuan(s.price_fen) : '',
    stock: '0',
    enabled: s?.enabled ?? true,
    sort: String(s?.sort ?? 0),
    levels: s ? { on_hand: s.on_hand, reserved: s.reserved, available: s.available } : null,
    orig: s ?? null,
  };
}

/** "/media/123-456-rice.png" → "rice.png" (the store prefixes product and image ids). */
function baseName(url) {
  const last = mediaPath(url).split('/').pop() || 'image';
  return decodeURIComponent(last).replace(/^(\d+-\d+-)+/, '') || 'image';
}

export async function render(ctx) {
  const { root } = ctx;
  const id = ctx.params.id ?? null;
  const canEdit = ctx.can(PERMS.ManageCatalogue);
  let product = id ? await api.get(`products/${id}`) : null;
  if (!ctx.isCurrent()) return;
  const previews = new Set();

  const state = {
    title: product?.title ?? '',
    description: product?.description ?? '',
    sort: String(product?.sort ?? 0),
    onSale: false,
    images: (product?.images ?? []).map((i) => ({ key: nextKey(), id: i.id, url: i.url })),
    skus: product ? product.skus.map(skuState) : [skuState(null)],
  };

  // --- basic fields ---------------------------------------------------------------------------
  const title = h('input', { name: 'title', maxlength: 60, value: state.title, disabled: !canEdit, placeholder: '例如：五常大米 稻花香2号 5kg', 'data-testid': 'product-title' });
  const titleCount = h('small', { class: 'hint' });
  const description = h('textarea', { name: 'description', rows: 6, maxlength: 5000, disabled: !canEdit, placeholder: '产地、品种、口感、储存方式……', 'data-testid': 'product-description' }, state.description);
  const descCount = h('small', { class: 'hint' });
  const sort = h('input', { name: 'sort', type: 'number', step: 1, value: state.sort, disabled: !canEdit, class: 'input-narrow', 'data-testid': 'product-sort' });
  const onSale = h('input', { type: 'checkbox', name: 'on_sale', 'data-testid': 'product-on-sale' });
  const counts = () => {
    titleCount.textContent = `${chars(title.value)}/60`;
    descCount.textContent = `${chars(description.value)}/5000`;
  };
  title.addEventListener('input', () => { state.title = title.value; counts(); });
  description.addEventListener('input', () => { state.description = description.value; counts(); });
  sort.addEventListener('input', () => { state.sort = sort.value; });
  onSale.addEventListener('change', () => { state.onSale = onSale.checked; });
  counts();

  // --- images ----------------------------------------------------------------------------------
  const grid = h('ol', { class: 'image-grid', 'data-testid': 'image-grid' });
  const fileInput = h('input', { type: 'file', accept: IMAGE_TYPES.join(','), multiple: true, hidden: true, 'data-testid': 'image-input' });
  const dropzone = h('div', { class: 'dropzone', 'data-testid': 'image-dropzone', tabindex: canEdit ? 0 : -1, role: 'button', 'aria-label': '上传商品图片' },
    h('strong', null, '拖拽图片到这里，或点击选择'),
    h('small', null, 'JPEG / PNG / WebP，每张不超过 5 MB；第一张为封面，可拖动调整顺序'));
  let dragKey = null;

  function addFiles(files) {
    const rejected = [];
    for (const f of files) {
      if (!IMAGE_TYPES.includes(f.type)) rejected.push(`${f.name}：仅支持 JPEG、PNG、WebP`);
      else if (f.size > MAX_IMAGE_BYTES) rejected.push(`${f.name}：超过 5 MB`);
      else if (state.images.length >= MAX_IMAGES) rejected.push(`${f.name}：最多 ${MAX_IMAGES} 张`);
      else {
        const preview = URL.createObjectURL(f);
        previews.add(preview);
        state.images.push({ key: nextKey(), file: f, preview });
      }
    }
    if (rejected.length) toast(rejected.join('；'), 'error');
    drawImages();
  }

  function move(key, to) {
    const from = state.images.findIndex((i) => i.key === key);
    if (from < 0 || to < 0 || to >= state.images.length || from === to) return;
    const [it] = state.images.splice(from, 1);
    state.images.splice(to, 0, it);
    drawImages();
  }

  function removeImage(key) {
    const i = state.images.findIndex((x) => x.key === key);
    if (i < 0) return;
    const [it] = state.images.splice(i, 1);
    if (it.preview) {
      URL.revokeObjectURL(it.preview);
      previews.delete(it.preview);
    }
    drawImages();
  }

  function drawImages() {
    replace(grid, state.images.map((img, i) => {
      const li = h('li', {
        class: ['image-tile', img.file ? 'image-new' : ''],
        draggable: canEdit,
        'data-key': img.key,
        'data-testid': 'image-tile',
        'data-name': img.file ? img.file.name : baseName(img.url),
      },
      h('img', { src: img.preview ?? img.url, alt: `商品图片 ${i + 1}` }),
      i === 0 ? h('span', { class: 'tile-tag' }, '封面') : null,
      img.file ? h('span', { class: 'tile-tag tile-tag-new' }, '待上传') : null,
      canEdit ? h('div', { class: 'tile-actions' },
        h('button', { type: 'button', class: 'btn btn-icon', title: '前移', 'aria-label': '前移', disabled: i === 0, 'data-testid': 'image-left', onclick: () => move(img.key, i - 1) }, '◀'),
        h('button', { type: 'button', class: 'btn btn-icon', title: '后移', 'aria-label': '后移', disabled: i === state.images.length - 1, 'data-testid': 'image-right', onclick: () => move(img.key, i + 1) }, '▶'),
        h('button', { type: 'button', class: 'btn btn-icon btn-danger-text', title: '删除', 'aria-label': '删除图片', 'data-testid': 'image-remove', onclick: () => removeImage(img.key) }, '✕')) : null);
      li.addEventListener('dragstart', (e) => {
        dragKey = img.key;
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData('text/plain', img.key);
        li.classList.add('dragging');
      });
      li.addEventListener('dragend', () => { dragKey = null; li.classList.remove('dragging'); });
      li.addEventListener('dragover', (e) => {
        if (dragKey) { e.preventDefault(); li.classList.add('drop-target'); }
      });
      li.addEventListener('dragleave', () => li.classList.remove('drop-target'));
      li.addEventListener('drop', (e) => {
        li.classList.remove('drop-target');
        if (!dragKey) return;
        e.preventDefault();
        e.stopPropagation();
        move(dragKey, state.images.findIndex((x) => x.key === img.key));
        dragKey = null;
      });
      return li;
    }));
    if (!state.images.length) grid.append(h('li', { class: 'muted image-empty' }, '还没有图片'));
  }

  if (canEdit) {
    dropzone.addEventListener('click', () => fileInput.click());
    dropzone.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); }
    });
    fileInput.addEventListener('change', () => { addFiles([...fileInput.files]); fileInput.value = ''; });
    for (const el of [dropzone, grid]) {
      el.addEventListener('dragover', (e) => {
        if (!dragKey && [...(e.dataTransfer?.types ?? [])].includes('Files')) {
          e.preventDefault();
          dropzone.classList.add('dropzone-over');
        }
      });
      el.addEventListener('dragleave', () => dropzone.classList.remove('dropzone-over'));
      el.addEventListener('drop', (e) => {
        dropzone.classList.remove('dropzone-over');
        if (dragKey || !e.dataTransfer?.files?.length) return;
        e.preventDefault();
        addFiles([...e.dataTransfer.files]);
      });
    }
  }
  drawImages();

  // --- SKUs ------------------------------------------------------------------------------------
  const skuBody = h('tbody', { 'data-testid': 'sku-rows' });

  function drawSkus() {
    replace(skuBody, state.skus.map((s, i) => {
      const spec = h('input', { value: s.spec, maxlength: 40, placeholder: '例如：5kg 真空装', disabled: !canEdit, 'data-testid': 'sku-spec', 'aria-label': `规格 ${i + 1}` });
      const price = h('input', { value: s.price, placeholder: '59.90', inputmode: 'decimal', disabled: !canEdit, class: 'input-money', 'data-testid': 'sku-price', 'aria-label': `价格（元） ${i + 1}` });
      const priceHint = h('small', { class: 'hint', 'data-testid': 'sku-price-hint' });
      const showPrice = () => {
        if (!s.price.trim()) { priceHint.textContent = ''; price.classList.remove('invalid'); return; }
        const r = parseYuan(s.price);
        priceHint.textContent = r.error ?? `= ${r.fen} 分`;
        priceHint.classList.toggle('error-text', !!r.error);
        price.classList.toggle('invalid', !!r.error);
      };
      spec.addEventListener('input', () => { s.spec = spec.value; });
      price.addEventListener('input', () => { s.price = price.value; showPrice(); });
      showPrice();
      const enabled = h('input', { type: 'checkbox', checked: s.enabled, disabled: !canEdit, 'data-testid': 'sku-enabled', 'aria-label': '启用' });
      enabled.addEventListener('change', () => { s.enabled = enabled.checked; });
      const sortIn = h('input', { type: 'number', step: 1, value: s.sort, disabled: !canEdit, class: 'input-narrow', 'aria-label': '排序' });
      sortIn.addEventListener('input', () => { s.sort = sortIn.value; });
      let stockCell;
      if (s.id) {
        stockCell = h('div', { class: 'stock-cell' },
          h('span', { 'data-testid': 'sku-stock' }, `在库 ${s.levels.on_hand} · 占用 ${s.levels.reserved} · 可售 ${s.levels.available}`),
          canEdit ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'sku-stock-adjust', onclick: () => adjustStock(s) }, '调整库存') : null);
      } else {
        const stock = h('input', { type: 'number', min: 0, step: 1, value: s.stock, class: 'input-narrow', 'data-testid': 'sku-initial-stock', 'aria-label': '初始库存' });
        stock.addEventListener('input', () => { s.stock = stock.value; });
        stockCell = h('div', { class: 'stock-cell' }, stock, h('small', { class: 'hint' }, '初始库存'));
      }
      return h('tr', { 'data-key': s.key, 'data-sku-id': s.id ?? '' },
        h('td', { 'data-label': '规格' }, spec),
        h('td', { 'data-label': '价格（元）' }, h('div', { class: 'money-input' }, h('span', null, '¥'), price), priceHint),
        h('td', { 'data-label': '库存' }, stockCell),
        h('td', { 'data-label': '启用', class: 'center' }, enabled),
        h('td', { 'data-label': '排序' }, sortIn),
        h('td', { class: 'actions' }, canEdit && !s.id && state.skus.length > 1
          ? h('button', { type: 'button', class: 'btn btn-small btn-danger-text', onclick: () => { state.skus = state.skus.filter((x) => x !== s); drawSkus(); } }, '移除')
          : null));
    }));
  }

  async function adjustStock(s) {
    const values = await dialog({
      title: `调整库存 · ${s.spec}`,
      message: `当前在库 ${s.levels.on_hand}，已被待付款订单占用 ${s.levels.reserved}，可售 ${s.levels.available}。`,
      testid: 'stock-dialog',
      fields: [
        { name: 'mode', label: '方式', type: 'radio', value: 'adjust', options: [['adjust', '增减（入库为正，出库为负）'], ['set', '盘点：在库数设为']] },
        { name: 'qty', label: '数量', required: true, inputmode: 'numeric', placeholder: '例如 50 或 -3' },
        { name: 'reason', label: '原因（记入审计日志）', type: 'textarea', required: true, maxlength: 200, placeholder: '例如：新到货入库' },
      ],
      validate: (v) => {
        const q = v.qty.trim();
        if (!/^[-+]?\d{1,9}$/.test(q)) return '数量须为整数';
        if (v.mode === 'set' && Number(q) < 0) return '盘点数不能为负数';
        if (v.mode === 'adjust' && Number(q) === 0) return '增减数量不能为 0';
        if (chars(v.reason.trim()) > 200) return '原因最多 200 字';
        return null;
      },
      confirmText: '确认调整',
    });
    if (!values) return;
    const n = Number(values.qty.trim());
    try {
      const levels = await api.post(`skus/${s.id}/stock`, { [values.mode]: n, reason: values.reason.trim() });
      s.levels = levels;
      drawSkus();
      toast(`库存已更新：在库 ${levels.on_hand}，可售 ${levels.available}`);
    } catch (e) {
      toastError(e, '调整库存失败：');
    }
  }

  drawSkus();
  const addSku = canEdit ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'sku-add', onclick: () => { state.skus.push(skuState(null)); drawSkus(); } }, '＋ 添加规格') : null;

  // --- validation & save -----------------------------------------------------------------------
  const formError = h('div', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'product-error' });

  function fail(msg) {
    formError.textContent = msg;
    formError.hidden = false;
    return null;
  }

  function validate() {
    formError.hidden = true;
    const t = state.title.trim();
    if (!t) return fail('请填写商品名称');
    if (chars(t) > 60) return fail('商品名称最多 60 个字');
    if (chars(state.description) > 5000) return fail('商品描述最多 5000 字');
    if (!/^-?\d+$/.test(state.sort.trim() || '0')) return fail('排序须为整数');
    if (!state.skus.length) return fail('至少需要一个规格');
    const skus = [];
    for (const [i, s] of state.skus.entries()) {
      const spec = s.spec.trim();
      if (!spec) return fail(`第 ${i + 1} 个规格：请填写规格名称`);
      if (chars(spec) > 40) return fail(`第 ${i + 1} 个规格：规格名称最多 40 个字`);
      const p = parseYuan(s.price);
      if (p.error) return fail(`第 ${i + 1} 个规格「${spec}」价格：${p.error}`);
      if (!/^-?\d+$/.test(s.sort.trim() || '0')) return fail(`第 ${i + 1} 个规格：排序须为整数`);
      let stock = null;
      if (!s.id) {
        if (!/^\d{1,9}$/.test(s.stock.trim())) return fail(`第 ${i + 1} 个规格「${spec}」：初始库存须为不小于 0 的整数`);
        stock = Number(s.stock.trim());
      }
      skus.push({ s, spec, price_fen: p.fen, stock, enabled: s.enabled, sort: Number(s.sort.trim() || 0) });
    }
    return { title: t, description: state.description, sort: Number(state.sort.trim() || 0), skus };
  }

  function explain(e, what) {
    const m = /^skus\[(\d+)\]\.(\w+)/.exec(e.field ?? '');
    const where = m ? `第 ${Number(m[1]) + 1} 个规格 ` : '';
    return fail(`${what}${where}${e.display ?? e.message}`);
  }

  async function syncImages(pid, serverImages) {
    const desired = state.images;
    const keep = new Set(desired.filter((i) => i.id).map((i) => i.id));
    for (const img of serverImages) {
      if (!keep.has(img.id)) await api.del(`products/${pid}/images/${img.id}`);
    }
    // The API appends uploads and has no reorder call: keep the longest unchanged prefix and
    // upload everything after it again in the wanted order, then drop the old copies.
    const kept = serverImages.filter((i) => keep.has(i.id));
    let k = 0;
    while (k < desired.length && k < kept.length && desired[k].id === kept[k].id) k++;
    const stale = [];
    for (const item of desired.slice(k)) {
      if (item.id) {
        const resp = await fetch(mediaPath(item.url));
        if (!resp.ok) throw new Error(`读取图片失败（${resp.status}）`);
        const blob = await resp.blob();
        const name = baseName(item.url);
        const type = IMAGE_TYPES.includes(blob.type) ? blob.type
          : name.endsWith('.png') ? 'image/png' : name.endsWith('.webp') ? 'image/webp' : 'image/jpeg';
        await api.upload(`products/${pid}/images`, new File([blob], name, { type }), name);
        stale.push(item.id);
      } else {
        await api.upload(`products/${pid}/images`, item.file, item.file.name);
      }
    }
    for (const old of stale) await api.del(`products/${pid}/images/${old}`);
  }

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'product-save' }, id ? '保存修改' : '创建商品');

  async function save() {
    const v = validate();
    if (!v) return;
    saveBtn.disabled = true;
    saveBtn.textContent = '保存中…';
    try {
      if (!id) {
        let created;
        try {
          created = await api.post('products', {
            title: v.title, description: v.description, sort: v.sort, on_sale: state.onSale,
            skus: v.skus.map((s) => ({ spec: s.spec, price_fen: s.price_fen, stock: s.stock, enabled: s.enabled, sort: s.sort })),
          });
        } catch (e) {
          return explain(e, '创建失败：');
        }
        try {
          await syncImages(created.id, []);
          toast(`商品「${created.title}」已创建`);
        } catch (e) {
          toastError(e, '商品已创建，但图片上传失败：');
        }
        ctx.navigate(`products/${created.id}`);
        return;
      }
      const patch = {};
      if (v.title !== product.title) patch.title = v.title;
      if (v.description !== product.description) patch.description = v.description;
      if (v.sort !== product.sort) patch.sort = v.sort;
      try {
        if (Object.keys(patch).length) await api.patch(`products/${id}`, patch);
      } catch (e) {
        return explain(e, '保存商品信息失败：');
      }
      for (const s of v.skus) {
        try {
          if (!s.s.id) {
            await api.post(`products/${id}/skus`, { spec: s.spec, price_fen: s.price_fen, stock: s.stock, enabled: s.enabled, sort: s.sort });
          } else {
            const o = s.s.orig;
            const p = {};
            if (s.spec !== o.spec) p.spec = s.spec;
            if (s.price_fen !== o.price_fen) p.price_fen = s.price_fen;
            if (s.enabled !== o.enabled) p.enabled = s.enabled;
            if (s.sort !== o.sort) p.sort = s.sort;
            if (Object.keys(p).length) await api.patch(`products/${id}/skus/${s.s.id}`, p);
          }
        } catch (e) {
          return explain(e, `保存规格「${s.spec}」失败：`);
        }
      }
      try {
        await syncImages(id, product.images);
      } catch (e) {
        return fail(`保存图片失败：${e.display ?? e.message}`);
      }
      toast('已保存');
      ctx.navigate(`products/${id}`);
    } finally {
      saveBtn.disabled = false;
      saveBtn.textContent = id ? '保存修改' : '创建商品';
    }
  }

  async function setStatus(onSaleNow) {
    try {
      product = await api.post(`products/${id}/${onSaleNow ? 'on-sale' : 'off-sale'}`);
      toast(onSaleNow ? '已上架' : '已下架');
      replace(statusSlot, statusView());
    } catch (e) {
      toastError(e);
    }
  }

  async function remove() {
    const ok = await confirmDialog({
      title: '删除商品',
      message: `确定删除「${product.title}」吗？删除后顾客和后台都看不到它，已有订单不受影响。`,
      confirmText: '删除', danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`products/${id}`);
      toast('商品已删除');
      ctx.navigate('products');
    } catch (e) {
      toastError(e);
    }
  }

  const statusSlot = h('div', { class: 'status-slot' });
  function statusView() {
    if (!product) return [];
    const on = product.status === 'ON_SALE';
    return [
      badge(PRODUCT_STATUS[product.status] ?? product.status, on ? 'green' : 'grey', 'product-status'),
      canEdit ? h('button', { type: 'button', class: ['btn', on ? '' : 'btn-primary'], 'data-testid': on ? 'product-off-sale' : 'product-on-sale-now', onclick: () => setStatus(!on) }, on ? '下架' : '上架') : null,
      canEdit ? h('button', { type: 'button', class: 'btn btn-danger-text', 'data-testid': 'product-delete', onclick: remove }, '删除') : null,
    ];
  }
  replace(statusSlot, statusView());

  const form = h('form', { class: 'product-form', novalidate: true },
    h('section', { class: 'card' },
      h('h2', null, '基本信息'),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, '商品名称', h('em', null, ' *')), title, titleCount),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, '商品描述'), description, descCount),
      h('div', { class: 'field-row' },
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, '排序（越小越靠前）'), sort),
        !id && canEdit ? h('label', { class: 'check' }, onSale, '创建后立即上架') : null)),
    h('section', { class: 'card' },
      h('h2', null, '商品图片'),
      canEdit ? [dropzone, fileInput] : null,
      grid),
    h('section', { class: 'card' },
      h('div', { class: 'section-head' }, h('h2', null, '规格与价格'), addSku),
      h('p', { class: 'hint' }, '价格按“元”填写，精确到分（如 59.90），系统以“分”为单位保存，不做四舍五入。'),
      h('table', { class: 'table sku-table' },
        h('thead', null, h('tr', null, ['规格', '价格（元）', '库存', '启用', '排序', ''].map((t) => h('th', null, t)))),
        skuBody)),
    formError,
    canEdit ? h('div', { class: 'form-actions' }, h('a', { class: 'btn', href: '#/products' }, '返回列表'), saveBtn) : null);
  form.addEventListener('submit', (e) => { e.preventDefault(); save(); });

  replace(root,
    h('div', { class: 'page-head' },
      h('div', null,
        h('a', { href: '#/products', class: 'back' }, '‹ 商品管理'),
        h('h1', { 'data-testid': 'product-heading' }, id ? product.title : '新建商品'),
        product ? h('small', { class: 'muted' }, `商品 #${product.id} · 创建于 ${fmtTime(product.created_at)} · 更新于 ${fmtTime(product.updated_at)}`) : null),
      statusSlot),
    !canEdit ? h('p', { class: 'notice' }, '当前角色只能查看商品。') : null,
    form,
    product?.skus?.length ? h('p', { class: 'hint' }, `价格区间 ${formatFen(Math.min(...product.skus.map((s) => s.price_fen)))} – ${formatFen(Math.max(...product.skus.map((s) => s.price_fen)))}`) : null);

  return () => {
    for (const p of previews) URL.revokeObjectURL(p);
  };
}
