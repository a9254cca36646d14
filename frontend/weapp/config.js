// Where the shop's API is. In WeChat DevTools against a local `cargo run -p shop-api`, keep
// http://127.0.0.1:8080 and tick "不校验合法域名" (see README.md). Tests override it through
// the storage key `baseUrl`.
module.exports = {
  baseUrl: 'http://127.0.0.1:8080',
};
