//! The four scenarios. Setup (products, shoppers, orders, signed callbacks) is done first and
//! not measured; then the measured phase runs `concurrency` tasks that pull work until it is
//! done (fixed count) or until the time is up (fixed duration, after a warm-up).

use crate::shop::{outcome, Shop, Shopper};
use crate::stats::{Recorder, Summary};
use anyhow::Context as _;
use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use rand::seq::SliceRandom as _;
use rand::Rng as _;
use serde_json::{json, Value};
use shop_wechat_pay::config::{
    TEST_APIV3_KEY, TEST_APPID, TEST_MCHID, TEST_PLATFORM_PRIVATE_KEY, TEST_PLATFORM_SERIAL,
};
use shop_wechat_pay::crypto::{nonce, ApiV3Key, Signer, WechatpayHeaders};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a scenario measured, and on which SKUs (for the invariant check).
pub struct Outcome {
    pub summary: Summary,
    pub skus: Vec<i64>,
    pub stock_each: i64,
    /// Scenario-specific figures (e.g. orders created, callbacks acknowledged).
    pub facts: Value,
}

/// Runs `work(item)` for every item, `concurrency` at a time, on spawned tasks.
async fn fixed<T, F, Fut>(items: Vec<T>, concurrency: usize, work: F) -> (Recorder, Duration)
where
    T: Send + Sync + 'static,
    F: Fn(Arc<Vec<T>>, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = String> + Send,
{
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (items, next, work) = (items.clone(), next.clone(), work.clone());
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let t = Instant::now();
                    let out = work(items.clone(), i).await;
                    rec.record(t, out);
                }
                rec
            })
        })
        .collect();
    let mut all = Recorder::default();
    for t in tasks {
        if let Ok(r) = t.await {
            all.merge(r);
        }
    }
    (all, started.elapsed())
}

/// Runs `work(task, n)` in a loop on `concurrency` tasks for `warmup + duration`; only the
/// requests that start after the warm-up are recorded.
async fn timed<F, Fut>(
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    work: F,
) -> (Recorder, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = String> + Send,
{
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|task| {
            let work = work.clone();
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                let mut n = 0u64;
                loop {
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    let out = work(task, n).await;
                    n += 1;
                    if t >= measure_from {
                        rec.record(t, out);
                    }
                }
                rec
            })
        })
        .collect();
    let mut all = Recorder::default();
    for t in tasks {
        if let Ok(r) = t.await {
            all.merge(r);
        }
    }
    (all, Instant::now().saturating_duration_since(measure_from))
}

/// 10,000 distinct buyers, one SKU with stock 100, everyone orders one unit at once.
pub async fn flash_sale(
    shop: &Shop,
    admin: &str,
    buyers: usize,
    stock: i64,
    concurrency: usize,
) -> anyhow::Result<Outcome> {
    let (_, skus) = shop
        .product(admin, "秒杀 五常稻花香 5kg", 1, 9900, stock)
        .await?;
    let sku = skus[0];
    eprintln!("setup: {buyers} shoppers with addresses");
    let shoppers = shop.shoppers(buyers, 64).await?;
    eprintln!("measuring: {buyers} orders for {stock} units, {concurrency} in flight");
    let s = shop.clone();
    let (rec, elapsed) = fixed(shoppers, concurrency, move |all: Arc<Vec<Shopper>>, i| {
        let s = s.clone();
        async move { outcome(s.order_request(&all[i], sku, 1).send().await).await }
    })
    .await;
    let created = rec.count("201");
    let sold_out = rec.count("409 OUT_OF_STOCK");
    Ok(Outcome {
        summary: rec.summary(elapsed),
        skus,
        stock_each: stock,
        facts: json!({ "orders_created": created, "sold_out_answers": sold_out, "buyers": buyers, "stock": stock }),
    })
}

/// A catalogue of `skus` SKUs (10 per product) and steady order placement by `users`.
pub async fn spread(
    shop: &Shop,
    admin: &str,
    sku_count: usize,
    users: usize,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let stock = 10_000_000;
    eprintln!("setup: {sku_count} SKUs, {users} shoppers");
    let products = sku_count.div_ceil(10);
    let skus: Vec<i64> = stream::iter(0..products)
        .map(|p| {
            let n = (sku_count - p * 10).min(10);
            async move {
                shop.product(admin, &format!("五常大米 批次{p}"), n, 3990, stock)
                    .await
                    .map(|(_, s)| s)
            }
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    let shoppers = Arc::new(shop.shoppers(users, 64).await?);
    let skus_arc = Arc::new(skus.clone());
    eprintln!(
        "measuring: {}s after {}s warm-up, {concurrency} in flight",
        duration.as_secs(),
        warmup.as_secs()
    );
    let s = shop.clone();
    let (rec, elapsed) = timed(concurrency, warmup, duration, move |task, n| {
        let (s, shoppers, skus) = (s.clone(), shoppers.clone(), skus_arc.clone());
        async move {
            let (who, sku, qty) = {
                let mut rng = rand::thread_rng();
                let who = (task + n as usize * 7919) % shoppers.len();
                (
                    who,
                    skus[rng.gen_range(0..skus.len())],
                    rng.gen_range(1..=3),
                )
            };
            outcome(s.order_request(&shoppers[who], sku, qty).send().await).await
        }
    })
    .await;
    let created = rec.count("201");
    Ok(Outcome {
        summary: rec.summary(elapsed),
        skus,
        stock_each: stock,
        facts: json!({ "orders_created": created, "skus": sku_count, "users": users }),
    })
}

/// One signed, encrypted TRANSACTION.SUCCESS callback, as WeChat sends it.
fn callback(
    signer: &Signer,
    key: &ApiV3Key,
    out_trade_no: &str,
    transaction_id: &str,
    total: i64,
) -> anyhow::Result<(Vec<(&'static str, String)>, String)> {
    let resource = json!({
        "mchid": TEST_MCHID, "appid": TEST_APPID, "out_trade_no": out_trade_no,
        "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
        "success_time": "2026-11-24T10:05:33+08:00", "payer": { "openid": "oLoadGen" },
        "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" }
    });
    let n = nonce(12);
    let ciphertext = key.encrypt(&n, "transaction", &resource.to_string())?;
    let body = json!({
        "id": format!("EV-{}", nonce(20)), "create_time": "2026-11-24T10:05:34+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                      "ciphertext": ciphertext, "associated_data": "transaction", "nonce": n }
    })
    .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let h = WechatpayHeaders::sign(
        signer,
        TEST_PLATFORM_SERIAL,
        &now.to_string(),
        &nonce(32),
        body.as_bytes(),
    )?;
    Ok((h.pairs(), body))
}

/// `orders` pending orders with a prepay, then their payment callbacks (signed and encrypted
/// with the sandbox keys) with a share of duplicates mixed in.
pub async fn callbacks(
    shop: &Shop,
    admin: &str,
    orders: usize,
    duplicates: f64,
    concurrency: usize,
    sku_count: usize,
) -> anyhow::Result<Outcome> {
    // Paying commits stock: every payment of one SKU updates the same inventory row, so the
    // number of SKUs decides how much the payments queue on that row's lock.
    let (_, skus) = shop
        .product(
            admin,
            "回调压测 五常大米",
            sku_count.clamp(1, 20),
            2590,
            orders as i64 + 10,
        )
        .await?;
    let users = orders.clamp(1, 1000);
    eprintln!("setup: {users} shoppers, {orders} orders with a prepay each");
    let shoppers = Arc::new(shop.shoppers(users, 64).await?);
    let pending: Vec<(String, i64)> = stream::iter(0..orders)
        .map(|i| {
            let (shoppers, skus) = (shoppers.clone(), &skus);
            async move {
                let who = &shoppers[i % shoppers.len()];
                let r = shop
                    .order_request(who, skus[i % skus.len()], 1)
                    .send()
                    .await?;
                let o: Value = r.json().await?;
                let id = o["id"].as_i64().with_context(|| format!("placing: {o}"))?;
                let (s, p) = shop
                    .post(
                        &format!("/api/v1/orders/{id}/pay"),
                        Some(&who.token),
                        json!({}),
                    )
                    .await?;
                anyhow::ensure!(s.is_success(), "pay params: {s} {p}");
                Ok::<_, anyhow::Error>((
                    o["order_no"].as_str().context("order_no")?.to_string(),
                    o["payable_fen"].as_i64().context("payable")?,
                ))
            }
        })
        .buffer_unordered(64)
        .try_collect()
        .await?;
    let extra = (orders as f64 * duplicates).round() as usize;
    eprintln!(
        "setup: signing {} callbacks ({extra} duplicates)",
        orders + extra
    );
    let run = shop.run.clone();
    let signed = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<_>> {
        let signer = Signer::from_pem(TEST_PLATFORM_PRIVATE_KEY)?;
        let key = ApiV3Key::new(TEST_APIV3_KEY).context("APIv3 key")?;
        let mut out = Vec::with_capacity(orders + extra);
        for (i, (no, total)) in pending.iter().enumerate() {
            out.push(callback(
                &signer,
                &key,
                no,
                &format!("4200{run}{i:08}"),
                *total,
            )?);
        }
        let mut rng = rand::thread_rng();
        for _ in 0..extra {
            let d = out[rng.gen_range(0..orders)].clone();
            out.push(d);
        }
        out.shuffle(&mut rng);
        Ok(out)
    })
    .await??;
    eprintln!(
        "measuring: {} callbacks, {concurrency} in flight",
        signed.len()
    );
    let s = shop.clone();
    let (rec, elapsed) = fixed(signed, concurrency, move |all: Arc<Vec<_>>, i| {
        let s = s.clone();
        async move {
            let (headers, body) = &all[i];
            let mut rb = s
                .http
                .post(s.url("/api/v1/payments/wechat/notify"))
                .header("content-type", "application/json")
                .body(body.clone());
            for (k, v) in headers {
                rb = rb.header(*k, v);
            }
            outcome(rb.send().await).await
        }
    })
    .await;
    let acked = rec.count("204");
    let sku_count = skus.len();
    let processing = server_histogram(
        shop,
        "shop_payment_callback_duration_seconds_bucket{kind=\"payment\",le=\"",
    )
    .await
    .unwrap_or(Value::Null);
    Ok(Outcome {
        summary: rec.summary(elapsed),
        skus,
        stock_each: orders as i64 + 10,
        facts: json!({ "orders": orders, "skus": sku_count, "duplicates_sent": extra, "acknowledged": acked,
                       "server_processing_ms": processing }),
    })
}

/// Product list pages and product details, as shoppers browse.
pub async fn browse(
    shop: &Shop,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let (s, page) = shop.get("/api/v1/products?per_page=50", None).await?;
    anyhow::ensure!(s.is_success(), "listing products: {s} {page}");
    let ids: Vec<i64> = page["items"]
        .as_array()
        .context("items")?
        .iter()
        .filter_map(|p| p["id"].as_i64())
        .collect();
    anyhow::ensure!(
        !ids.is_empty(),
        "the catalogue is empty: seed it (SHOP_SEED_DEMO=true) or run spread first"
    );
    let pages = (page["total"].as_i64().unwrap_or(1).max(1) as usize).div_ceil(20);
    let in_rotation = ids.len();
    let ids = Arc::new(ids);
    eprintln!(
        "measuring: {}s after {}s warm-up, {concurrency} in flight",
        duration.as_secs(),
        warmup.as_secs()
    );
    let s = shop.clone();
    let (rec, elapsed) = timed(concurrency, warmup, duration, move |task, n| {
        let (s, ids) = (s.clone(), ids.clone());
        async move {
            let path = if (task as u64 + n) % 2 == 0 {
                format!("/api/v1/products?page={}", 1 + (n as usize % pages.min(5)))
            } else {
                format!("/api/v1/products/{}", ids[(task + n as usize) % ids.len()])
            };
            outcome(s.http.get(s.url(&path)).send().await).await
        }
    })
    .await;
    Ok(Outcome {
        summary: rec.summary(elapsed),
        skus: vec![],
        stock_each: 0,
        facts: json!({ "products_in_rotation": in_rotation, "list_pages_in_rotation": pages.min(5) }),
    })
}

/// p50/p90/p99 (as bucket upper bounds, ms) of a server-side histogram read from /metrics:
/// the time the server itself spent, without the queueing the client sees.
async fn server_histogram(shop: &Shop, bucket_prefix: &str) -> anyhow::Result<Value> {
    let text = shop
        .http
        .get(shop.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(bucket_prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().map_or(0.0, |b| b.1);
    anyhow::ensure!(total > 0.0, "no samples");
    let at = |p: f64| {
        buckets
            .iter()
            .find(|(_, c)| *c >= total * p)
            .map_or(f64::INFINITY, |(le, _)| le * 1000.0)
    };
    Ok(json!({ "samples": total, "p50_le": at(0.5), "p90_le": at(0.9), "p99_le": at(0.99) }))
}
