//! Starts the server and speaks to it.

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use shop_api::app::Stopper;
use shop_api::{Application, Config};
use shop_contract_tests::{fresh_mysql_database, redis_url, unique_suffix, Cleanup};
use std::collections::HashMap;

pub const ADMIN_PASSWORD: &str = "test-admin-password";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// What the server was started with (the database URL among it).
    pub env: HashMap<&'static str, String>,
    /// The server's own state, to look behind the API (events written, for instance).
    pub state: shop_api::state::AppState,
    stopper: Stopper,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    cleanup: Vec<Cleanup>,
}

impl TestApp {
    async fn start(mut env: HashMap<&'static str, String>, cleanup: Vec<Cleanup>) -> TestApp {
        let dir = std::env::temp_dir().join(format!("shop-api-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        env.entry("SHOP_DATABASE_URL")
            .or_insert_with(|| format!("sqlite://{}", dir.join("shop.db").display()));
        env.insert("SHOP_LISTEN", "127.0.0.1:0".into());
        env.insert("SHOP_MEDIA_DIR", dir.join("media").display().to_string());
        env.entry("SHOP_EVENTS_FILE")
            .or_insert_with(|| dir.join("events.jsonl").display().to_string());
        env.insert("SHOP_ADMIN_PASSWORD", ADMIN_PASSWORD.into());
        env.entry("SHOP_SEED_DEMO")
            .or_insert_with(|| "false".into());
        // Tests log in hundreds of shoppers from one address; rate-limit tests lower these.
        env.entry("SHOP_RATE_LIMIT_LOGIN")
            .or_insert_with(|| "100000".into());
        env.entry("SHOP_RATE_LIMIT_ORDERS")
            .or_insert_with(|| "100000".into());
        let mut cleanup = cleanup;
        cleanup.push(Cleanup::File(dir.clone()));
        Self::launch(env, cleanup).await
    }

    async fn launch(env: HashMap<&'static str, String>, cleanup: Vec<Cleanup>) -> TestApp {
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
        let app = Application::build(config).await.expect("the server starts");
        let base = format!("http://{}", app.addr());
        let stopper = app.stopper();
        let state = app.state.clone();
        let server = tokio::spawn(app.run());
        TestApp {
            base,
            client: Client::new(),
            env,
            state,
            stopper,
            server,
            cleanup,
        }
    }

    /// Stops the server as SIGTERM would and starts a new process-equivalent on the same
    /// database (and Redis prefix), on a new port.
    pub async fn restart(self) -> TestApp {
        self.stopper.stop();
        self.server
            .await
            .expect("the server task")
            .expect("the server stops cleanly");
        Self::launch(self.env, self.cleanup).await
    }

    pub async fn sqlite() -> TestApp {
        Self::start(HashMap::new(), vec![]).await
    }

    pub async fn sqlite_with(env: &[(&'static str, &str)]) -> TestApp {
        Self::start(
            env.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            vec![],
        )
        .await
    }

    pub async fn mysql_redis() -> TestApp {
        Self::mysql_redis_with(&[]).await
    }

    pub async fn mysql_redis_with(extra: &[(&'static str, &str)]) -> TestApp {
        let (url, db) = fresh_mysql_database().await;
        let prefix = format!("shop-api-{}", unique_suffix());
        let mut env: HashMap<&'static str, String> =
            extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
        env.insert("SHOP_DATABASE_URL", url);
        env.insert("SHOP_REDIS_URL", redis_url());
        env.insert("SHOP_REDIS_PREFIX", prefix.clone());
        Self::start(env, vec![db, Cleanup::RedisPrefix(prefix)]).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `token` as bearer, `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.expect("request sent")
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let r = self.call(method, path, token, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
        (status, v)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.json(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.json(Method::POST, path, token, Some(body)).await
    }

    /// Logs in a shopper with a WeChat code; each code is its own shopper.
    pub async fn shopper(&self, code: &str) -> String {
        let (s, v) = self
            .post("/api/v1/auth/wechat-login", None, json!({ "code": code }))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn admin(&self) -> String {
        self.operator("admin", ADMIN_PASSWORD).await
    }

    pub async fn operator(&self, username: &str, password: &str) -> String {
        let (s, v) = self
            .post(
                "/api/v1/admin/auth/login",
                None,
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    /// Creates an on-sale product with one SKU through the admin API; returns (product, sku).
    pub async fn product(&self, admin: &str, price_fen: i64, stock: i64) -> (i64, i64) {
        let (s, v) = self
            .post(
                "/api/v1/admin/products",
                Some(admin),
                json!({
                    "title": "五常大米 稻花香2号",
                    "description": "当季新米",
                    "on_sale": true,
                    "skus": [{ "spec": "5kg 真空装", "price_fen": price_fen, "stock": stock }]
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["id"].as_i64().unwrap(),
            v["skus"][0]["id"].as_i64().unwrap(),
        )
    }

    /// Adds an address for a shopper; returns its id.
    pub async fn address(&self, token: &str) -> i64 {
        let (s, v) = self
            .post(
                "/api/v1/addresses",
                Some(token),
                json!({ "receiver": "张三", "phone": "13812345678", "province": "黑龙江省", "city": "哈尔滨市",
                        "district": "五常市", "detail": "民乐乡 1 号" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_i64().unwrap()
    }

    /// POST /orders with an Idempotency-Key.
    pub async fn order(&self, token: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.post_keyed("/api/v1/orders", token, key, body).await
    }

    /// A shopper's POST with an Idempotency-Key (orders, refund requests).
    pub async fn post_keyed(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// Builds WeChat Pay callbacks exactly as WeChat (or the sandbox) does — encrypted with the
/// APIv3 key and signed with the platform key of the test material — so tests can send
/// genuine ones, or genuine ones with one thing wrong.
pub mod wechat {
    use serde_json::{json, Value};
    use shop_wechat_pay::config::{
        TEST_APIV3_KEY, TEST_APPID, TEST_MCHID, TEST_PLATFORM_PRIVATE_KEY, TEST_PLATFORM_SERIAL,
    };
    use shop_wechat_pay::crypto::{nonce, ApiV3Key, Signer, WechatpayHeaders};

    pub const NOTIFY: &str = "/api/v1/payments/wechat/notify";
    pub const REFUND_NOTIFY: &str = "/api/v1/payments/wechat/refund-notify";

    #[derive(Debug, Clone)]
    pub struct Callback {
        pub headers: Vec<(&'static str, String)>,
        pub body: String,
    }

    pub fn now_secs() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    /// The decrypted resource of a TRANSACTION.SUCCESS callback.
    pub fn transaction(out_trade_no: &str, transaction_id: &str, total: i64) -> Value {
        json!({
            "mchid": TEST_MCHID, "appid": TEST_APPID, "out_trade_no": out_trade_no,
            "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
            "success_time": "2026-11-24T10:05:33+08:00",
            "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
            "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" }
        })
    }

    /// The envelope around an encrypted `resource`.
    pub fn envelope(event_type: &str, original_type: &str, resource: &Value, aad: &str) -> Value {
        let key = ApiV3Key::new(TEST_APIV3_KEY).unwrap();
        let n = nonce(12);
        let ciphertext = key.encrypt(&n, aad, &resource.to_string()).unwrap();
        json!({
            "id": format!("EV-{}", nonce(16)), "create_time": "2026-11-24T10:05:34+08:00",
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
            "resource": { "original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                          "ciphertext": ciphertext, "associated_data": aad, "nonce": n }
        })
    }

    /// Signs `body` as WeChat would, with this serial and timestamp.
    pub fn signed(body: String, serial: &str, timestamp: i64) -> Callback {
        let signer = Signer::from_pem(TEST_PLATFORM_PRIVATE_KEY).unwrap();
        let h = WechatpayHeaders::sign(
            &signer,
            serial,
            &timestamp.to_string(),
            &nonce(32),
            body.as_bytes(),
        )
        .unwrap();
        Callback {
            headers: h.pairs(),
            body,
        }
    }

    pub fn genuine(envelope: &Value) -> Callback {
        signed(envelope.to_string(), TEST_PLATFORM_SERIAL, now_secs())
    }

    /// A genuine payment callback.
    pub fn paid(out_trade_no: &str, transaction_id: &str, total: i64) -> Callback {
        genuine(&envelope(
            "TRANSACTION.SUCCESS",
            "transaction",
            &transaction(out_trade_no, transaction_id, total),
            "transaction",
        ))
    }
}

impl TestApp {
    /// Delivers a callback as WeChat does; returns the status and the body.
    pub async fn deliver(&self, path: &str, cb: &wechat::Callback) -> (StatusCode, Value) {
        let mut rb = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(cb.body.clone());
        for (k, v) in &cb.headers {
            rb = rb.header(*k, v);
        }
        let r = rb.send().await.expect("callback sent");
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A shopper with an address and a pending order for `qty` of `sku`; returns
    /// (token, order json).
    pub async fn pending_order(&self, code: &str, sku: i64, qty: i64) -> (String, Value) {
        let token = self.shopper(code).await;
        let address = self.address(&token).await;
        let (s, o) = self
            .order(
                &token,
                &format!("key-{code}-{}", unique_suffix()),
                json!({ "address_id": address, "items": [{ "sku_id": sku, "quantity": qty }] }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        (token, o)
    }

    /// Polls `GET path` until `done` holds (10 s at most); returns the last body.
    pub async fn wait_for(
        &self,
        path: &str,
        token: Option<&str>,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            let (s, v) = self.get(path, token).await;
            if s == StatusCode::OK && done(&v) {
                return v;
            }
            last = v;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{path} never reached the expected state; last: {last}");
    }

    /// The events written about an order, by type.
    pub async fn events_of(&self, order_id: i64) -> Vec<String> {
        self.state
            .outbox
            .for_aggregate(&format!("order:{order_id}"))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    /// A metric's value from /metrics (`name{labels}` exactly as printed), 0 if absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }
}
