const api = require('../../utils/api.js');
const { friendly, toast } = require('../../utils/errors.js');

Component({
  data: { addresses: [], picking: false, loading: false, error: '' },
  methods: {
    onLoad(query) {
      this.setData({ picking: query && query.pick === '1' });
    },
    onShow() {
      return this.load();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        this.setData({ addresses: await api.get('/api/v1/addresses'), loading: false });
      } catch (e) {
        this.setData({ loading: false, error: friendly(e) });
      }
    },
    pick(e) {
      if (!this.data.picking) return;
      wx.setStorageSync('checkoutAddress', Number(e.currentTarget.dataset.id));
      wx.navigateBack();
    },
    add() {
      wx.navigateTo({ url: '/pages/address-edit/address-edit' });
    },
    edit(e) {
      wx.navigateTo({ url: `/pages/address-edit/address-edit?id=${e.currentTarget.dataset.id}` });
    },
    async makeDefault(e) {
      const a = this.data.addresses.find((x) => x.id === Number(e.currentTarget.dataset.id));
      try {
        await api.put(`/api/v1/addresses/${a.id}`, {
          receiver: a.receiver, phone: a.phone, province: a.province, city: a.city,
          district: a.district, detail: a.detail, is_default: true,
        });
        await this.load();
      } catch (err) {
        toast(err);
      }
    },
    async remove(e) {
      try {
        await api.del(`/api/v1/addresses/${Number(e.currentTarget.dataset.id)}`);
        await this.load();
      } catch (err) {
        toast(err);
      }
    },
    /** WeChat's own address book, when the user allows it. */
    importWechat() {
      if (!wx.chooseAddress) return Promise.resolve(false);
      return new Promise((resolve) => {
        wx.chooseAddress({
          success: async (r) => {
            try {
              await api.post('/api/v1/addresses', {
                receiver: r.userName, phone: r.telNumber, province: r.provinceName,
                city: r.cityName, district: r.countyName, detail: r.detailInfo,
              });
              await this.load();
              resolve(true);
            } catch (err) {
              toast(err);
              resolve(false);
            }
          },
          fail: () => resolve(false),
        });
      });
    },
  },
});
