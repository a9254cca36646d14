//! The shop's API as the load generator uses it: setting up products, shoppers, addresses and
//! orders (unmeasured), and the requests each scenario measures.

use anyhow::{bail, Context as _};
use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A shopper: bearer token and a delivery address.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub token: String,
    pub address_id: i64,
}

#[derive(Debug, Clone)]
pub struct Shop {
    pub base: String,
    pub http: Client,
    /// Distinguishes this run's shoppers and keys from earlier runs against the same shop.
    pub run: String,
    seq: std::sync::Arc<AtomicU64>,
}

/// How an answer is counted: the status, plus the error code for failures. Success bodies
/// are read to the end but not parsed: on a small machine the generator's CPU is the server's.
pub async fn outcome(r: Result<reqwest::Response, reqwest::Error>) -> String {
    match r {
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(_) => "network".into(),
        Ok(r) => {
            let status = r.status();
            let bytes = r.bytes().await.unwrap_or_default();
            if status.is_success() {
                return status.as_u16().to_string();
            }
            let body: Option<Value> = serde_json::from_slice(&bytes).ok();
            let code = body.as_ref().and_then(|b| b["code"].as_str()).unwrap_or("");
            format!("{} {code}", status.as_u16())
        }
    }
}

impl Shop {
    pub fn new(base: &str, connections: usize) -> anyhow::Result<Shop> {
        let http = Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()?;
        let run = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis()
        );
        Ok(Shop {
            base: base.trim_end_matches('/').to_string(),
            http,
            run,
            seq: Default::default(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh Idempotency-Key.
    pub fn key(&self) -> String {
        format!(
            "lg-{}-{}",
            self.run,
            self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.with_context(|| format!("calling {path}"))?;
        let status = r.status();
        let v = r.json().await.unwrap_or(Value::Null);
        Ok((status, v))
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send_json(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn get(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send_json(reqwest::Method::GET, path, token, None)
            .await
    }

    pub async fn ready(&self) -> anyhow::Result<()> {
        let (s, v) = self.get("/readyz", None).await?;
        if s != StatusCode::OK {
            bail!("{} is not ready: {s} {v}", self.base);
        }
        Ok(())
    }

    pub async fn admin(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let (s, v) = self
            .post(
                "/api/v1/admin/auth/login",
                None,
                json!({ "username": username, "password": password }),
            )
            .await?;
        if s != StatusCode::OK {
            bail!("operator login failed ({s}): {v} — pass --admin-password (SHOP_ADMIN_PASSWORD of the shop)");
        }
        v["token"]
            .as_str()
            .map(String::from)
            .context("no token in the login answer")
    }

    /// Creates an on-sale product with `skus` SKUs of `stock` each; returns the SKU ids.
    pub async fn product(
        &self,
        admin: &str,
        title: &str,
        skus: usize,
        price_fen: i64,
        stock: i64,
    ) -> anyhow::Result<(i64, Vec<i64>)> {
        let skus: Vec<Value> = (0..skus)
            .map(|i| json!({ "spec": format!("{}kg 规格{i}", 1 + i % 10), "price_fen": price_fen + i as i64, "stock": stock }))
            .collect();
        let (s, v) = self
            .post(
                "/api/v1/admin/products",
                Some(admin),
                json!({ "title": title, "description": "压测商品", "on_sale": true, "skus": skus }),
            )
            .await?;
        if s != StatusCode::CREATED {
            bail!("creating a product failed ({s}): {v}");
        }
        let ids = v["skus"]
            .as_array()
            .context("no skus")?
            .iter()
            .filter_map(|s| s["id"].as_i64())
            .collect();
        Ok((v["id"].as_i64().context("no id")?, ids))
    }

    /// Logs in `n` new shoppers and gives each an address, `parallel` at a time.
    pub async fn shoppers(&self, n: usize, parallel: usize) -> anyhow::Result<Vec<Shopper>> {
        stream::iter(0..n)
            .map(|i| async move {
                let (s, v) = self
                    .post(
                        "/api/v1/auth/wechat-login",
                        None,
                        json!({ "code": format!("lg-{}-{i}", self.run) }),
                    )
                    .await?;
                if s != StatusCode::OK {
                    bail!("shopper login failed ({s}): {v} — raise SHOP_RATE_LIMIT_LOGIN on the shop");
                }
                let token = v["token"].as_str().context("no token")?.to_string();
                let (s, a) = self
                    .post(
                        "/api/v1/addresses",
                        Some(&token),
                        json!({ "receiver": "压测", "phone": "13800000000", "province": "黑龙江省",
                                "city": "哈尔滨市", "district": "五常市", "detail": format!("测试路 {i} 号") }),
                    )
                    .await?;
                if s != StatusCode::CREATED {
                    bail!("adding an address failed ({s}): {a}");
                }
                Ok(Shopper {
                    token,
                    address_id: a["id"].as_i64().context("no address id")?,
                })
            })
            .buffer_unordered(parallel)
            .try_collect()
            .await
    }

    /// The request the order scenarios measure.
    pub fn order_request(&self, who: &Shopper, sku: i64, quantity: i64) -> reqwest::RequestBuilder {
        self.http
            .post(self.url("/api/v1/orders"))
            .bearer_auth(&who.token)
            .header("Idempotency-Key", self.key())
            .json(&json!({ "address_id": who.address_id, "items": [{ "sku_id": sku, "quantity": quantity }] }))
    }
}
