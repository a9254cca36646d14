//! Starts the server and speaks to it.

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use shop_api::{Application, Config};
use shop_contract_tests::{fresh_mysql_database, redis_url, unique_suffix, Cleanup};
use std::collections::HashMap;

pub const ADMIN_PASSWORD: &str = "test-admin-password";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    _cleanup: Vec<Cleanup>,
}

impl TestApp {
    async fn start(mut env: HashMap<&'static str, String>, cleanup: Vec<Cleanup>) -> TestApp {
        let dir = std::env::temp_dir().join(format!("shop-api-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        env.entry("SHOP_DATABASE_URL")
            .or_insert_with(|| format!("sqlite://{}", dir.join("shop.db").display()));
        env.insert("SHOP_LISTEN", "127.0.0.1:0".into());
        env.insert("SHOP_MEDIA_DIR", dir.join("media").display().to_string());
        env.insert("SHOP_ADMIN_PASSWORD", ADMIN_PASSWORD.into());
        env.entry("SHOP_SEED_DEMO")
            .or_insert_with(|| "false".into());
        // Tests log in hundreds of shoppers from one address; rate-limit tests lower these.
        env.entry("SHOP_RATE_LIMIT_LOGIN")
            .or_insert_with(|| "100000".into());
        env.entry("SHOP_RATE_LIMIT_ORDERS")
            .or_insert_with(|| "100000".into());
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
        let app = Application::build(config).await.expect("the server starts");
        let base = format!("http://{}", app.addr());
        tokio::spawn(app.run());
        let mut cleanup = cleanup;
        cleanup.push(Cleanup::File(dir.clone()));
        TestApp {
            base,
            client: Client::new(),
            _cleanup: cleanup,
        }
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
        let r = self
            .client
            .post(self.url("/api/v1/orders"))
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
