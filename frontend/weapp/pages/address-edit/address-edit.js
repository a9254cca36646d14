const api = require('../../utils/api.js');
const { friendly } = require('../../utils/errors.js');

const FIELDS = ['receiver', 'phone', 'province', 'city', 'district', 'detail'];
const NAMES = { receiver: '收货人', phone: '手机号', province: '省', city: '市', district: '区/县', detail: '详细地址' };

Component({
  data: {
    id: 0,
    form: { receiver: '', phone: '', province: '', city: '', district: '', detail: '', is_default: false },
    error: '',
  },
  methods: {
    async onLoad(query) {
      if (!query || !query.id) return;
      const id = Number(query.id);
      const list = await api.get('/api/v1/addresses');
      const a = list.find((x) => x.id === id);
      if (a) this.setData({ id, form: Object.assign({}, this.data.form, a) });
    },
    input(e) {
      this.setData({ [`form.${e.currentTarget.dataset.f}`]: e.detail.value });
    },
    toggleDefault(e) {
      this.setData({ 'form.is_default': e.detail.value });
    },
    async save() {
      const f = this.data.form;
      const missing = FIELDS.find((k) => !String(f[k] || '').trim());
      if (missing) {
        this.setData({ error: `请填写${NAMES[missing]}` });
        return null;
      }
      const body = { receiver: f.receiver, phone: f.phone, province: f.province, city: f.city,
        district: f.district, detail: f.detail, is_default: !!f.is_default };
      try {
        const saved = this.data.id
          ? await api.put(`/api/v1/addresses/${this.data.id}`, body)
          : await api.post('/api/v1/addresses', body);
        this.setData({ error: '' });
        wx.navigateBack();
        return saved;
      } catch (e) {
        // The API names the field it refused (e.g. phone); say which one.
        const which = e.field && NAMES[e.field] ? `${NAMES[e.field]}：` : '';
        this.setData({ error: which + friendly(e) });
        return null;
      }
    },
  },
});
