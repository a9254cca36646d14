const api = require('../../utils/api.js');
const { formatFen } = require('../../utils/money.js');
const { friendly } = require('../../utils/errors.js');

const PER_PAGE = 10;

Component({
  data: { items: [], page: 0, total: 0, hasMore: false, loading: false, error: '' },
  methods: {
    onLoad() {
      return this.refresh();
    },
    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh());
    },
    onReachBottom() {
      return this.loadMore();
    },
    refresh() {
      this.setData({ items: [], page: 0, hasMore: false, error: '' });
      return this.loadMore();
    },
    async loadMore() {
      if (this.data.loading) return;
      const page = this.data.page + 1;
      this.setData({ loading: true });
      try {
        const r = await api.get(`/api/v1/products?page=${page}&per_page=${PER_PAGE}`);
        const items = this.data.items.concat(
          r.items.map((p) => ({
            id: p.id,
            title: p.title,
            cover_url: p.cover_url,
            in_stock: p.in_stock,
            price: p.min_price_fen == null ? '' : `${formatFen(p.min_price_fen)} 起`,
          })),
        );
        this.setData({ items, page, total: r.total, hasMore: items.length < r.total, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: friendly(e) });
      }
    },
    open(e) {
      wx.navigateTo({ url: `/pages/product/product?id=${e.currentTarget.dataset.id}` });
    },
  },
});
