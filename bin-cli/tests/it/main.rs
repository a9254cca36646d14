//! `shop-admin` as operators run it: the real binary against a shop's database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use shop_contract_tests::unique_suffix;
use sqlx::Connection as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A shop's database for the CLI: a SQLite file (the embedded default) or a fresh MySQL
/// database on the local server.
struct Shop {
    dir: PathBuf,
    mysql: Option<(String, shop_contract_tests::Cleanup)>,
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Shop {
    fn new() -> Shop {
        let dir = std::env::temp_dir().join(format!("shop-admin-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        Shop { dir, mysql: None }
    }

    async fn mysql() -> Shop {
        let mut shop = Shop::new();
        shop.mysql = Some(shop_contract_tests::fresh_mysql_database().await);
        shop
    }

    fn db_url(&self) -> String {
        match &self.mysql {
            Some((url, _)) => url.clone(),
            None => format!("sqlite://{}", self.dir.join("shop.db").display()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_shop-admin"))
            .args(args)
            .env("SHOP_DATABASE_URL", self.db_url())
            .env("SHOP_MEDIA_DIR", self.dir.join("media"))
            .env("SHOP_EVENTS_FILE", self.dir.join("events.jsonl"))
            .env("USER", "tester")
            .env_remove("SHOP_OPERATOR")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    async fn sql(&self, sql: &str) {
        if self.mysql.is_some() {
            let mut c = sqlx::MySqlConnection::connect(&self.db_url())
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.db_url())
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[tokio::test]
async fn operators_products_and_the_audit_chain_sqlite() {
    operators_products_and_the_audit_chain(Shop::new()).await
}

#[tokio::test]
async fn operators_products_and_the_audit_chain_mysql() {
    operators_products_and_the_audit_chain(Shop::mysql().await).await
}

async fn operators_products_and_the_audit_chain(shop: Shop) {
    let op = shop.json(&[
        "operators",
        "create",
        "ops.wang",
        "--role",
        "operator",
        "--password",
        "long-enough-pw",
    ]);
    assert_eq!(op["role"], "operator");
    let out = shop.run(&[
        "operators",
        "create",
        "ops.wang",
        "--role",
        "operator",
        "--password",
        "long-enough-pw",
    ]);
    assert_eq!(code(&out), 4, "duplicate username is refused");
    let out = shop.run(&[
        "operators",
        "create",
        "x.y",
        "--role",
        "root",
        "--password",
        "long-enough-pw",
    ]);
    assert_eq!(code(&out), 4, "unknown role");

    let p = shop.json(&[
        "products",
        "create",
        "--title",
        "五常大米 稻花香",
        "--sku",
        "5kg 真空装:129.00:20",
        "--sku",
        "10kg:239.5:5",
        "--on-sale",
    ]);
    assert_eq!(p["skus"][0]["price_fen"], 12900);
    assert_eq!(p["skus"][1]["price_fen"], 23950, "yuan parsed exactly");
    let sku = p["skus"][0]["id"].as_i64().unwrap().to_string();
    let s = shop.json(&[
        "products",
        "set-stock",
        &sku,
        "--adjust",
        "-5",
        "--reason",
        "盘点损耗",
    ]);
    assert_eq!(s["on_hand"], 15);
    let out = shop.run(&[
        "products",
        "set-stock",
        &sku,
        "--set",
        "-1",
        "--reason",
        "x",
    ]);
    assert_eq!(code(&out), 4);
    // An operator acting by name must have the role for it.
    let out = shop.run(&[
        "--as",
        "ops.wang",
        "reports",
        "daily",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-02",
    ]);
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stderr));
    let out = shop.run(&["--as", "nobody", "products", "list"]);
    assert_eq!(code(&out), 3);
    let list = shop.json(&["products", "list"]);
    assert_eq!(list["total"], 1);

    let audit = shop.json(&["audit", "list"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"sku.stock")
            && actions.contains(&"product.create")
            && actions.contains(&"operator.create"),
        "{actions:?}"
    );
    let stock_row = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "sku.stock")
        .unwrap();
    assert_eq!(stock_row["before"]["on_hand"], 20);
    assert_eq!(stock_row["after"]["on_hand"], 15);
    assert_eq!(stock_row["after"]["reason"], "盘点损耗");
    assert_eq!(stock_row["actor"], "system:shop-admin:tester");

    let v = shop.json(&["audit", "verify"]);
    assert_eq!(v["status"], "intact");
    // Someone edits a row in the database: verify names it and fails with code 6.
    shop.sql("UPDATE audit_log SET after_json = '{\"on_hand\":999}' WHERE action = 'sku.stock'")
        .await;
    let out = shop.run(&["audit", "verify"]);
    assert_eq!(code(&out), 6, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was edited"));
}

#[tokio::test]
async fn deleting_an_audit_row_is_detected_sqlite() {
    deleting_an_audit_row_is_detected(Shop::new()).await
}

#[tokio::test]
async fn deleting_an_audit_row_is_detected_mysql() {
    deleting_an_audit_row_is_detected(Shop::mysql().await).await
}

async fn deleting_an_audit_row_is_detected(shop: Shop) {
    for i in 0..3 {
        shop.json(&[
            "operators",
            "create",
            &format!("user.{i}"),
            "--role",
            "finance",
            "--password",
            "long-enough-pw",
        ]);
    }
    shop.sql("DELETE FROM audit_log WHERE seq = 2").await;
    let out = shop.run(&["audit", "verify"]);
    assert_eq!(code(&out), 6);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("row 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn cancelling_asks_first_and_exit_codes_mean_something() {
    let shop = Shop::new();
    let out = shop.run(&["orders", "show", "R2026NOPE1"]);
    assert_eq!(code(&out), 3);
    let out = shop.run(&["orders", "show", "bad number!"]);
    assert_eq!(code(&out), 4);
    let out = shop.run(&["no-such-command"]);
    assert_eq!(code(&out), 2);
    let out = shop.run(&["reconcile", "show", "--date", "2026-11-24"]);
    assert_eq!(code(&out), 3, "no report yet");
    // Seed one pending order straight into the database, then cancel it.
    let now = 1_795_485_600_000i64;
    shop.json(&["products", "list"]);
    shop.sql(&format!(
        "INSERT INTO users (id, openid, created_at) VALUES (1, 'openid_cli', {now});
         INSERT INTO products (id, title, description, status, sort, created_at, updated_at) VALUES (4, '五常大米', '', 'ON_SALE', 0, {now}, {now});
         INSERT INTO skus (id, product_id, spec, price_fen, enabled, sort, created_at, updated_at) VALUES (5, 4, '5kg', 12900, 1, 0, {now}, {now});
         INSERT INTO inventory (sku_id, on_hand, reserved, updated_at) VALUES (5, 10, 1, {now});
         INSERT INTO orders (id, order_no, user_id, status, items_total_fen, shipping_fee_fen, payable_fen, receiver, phone, province, city, district, detail, created_at, expires_at, updated_at, version)
           VALUES (7, 'R202611247', 1, 'PENDING_PAYMENT', 12900, 0, 12900, '张三', '13812345678', '黑龙江省', '哈尔滨市', '五常市', '民乐乡', {now}, {}, {now}, 1);
         INSERT INTO order_items VALUES (7, 1, 5, 4, '五常大米', '5kg', 12900, 1, 12900, NULL);",
        now + 1_800_000
    ))
    .await;
    let out = shop.run(&["orders", "cancel", "R202611247", "--reason", "客户要求"]);
    assert_eq!(
        code(&out),
        10,
        "without --yes and without a 'yes' typed, nothing happens"
    );
    let o = shop.json(&["orders", "show", "7"]);
    assert_eq!(o["status"], "PENDING_PAYMENT");
    let o = shop.json(&[
        "--yes",
        "orders",
        "cancel",
        "R202611247",
        "--reason",
        "客户要求",
    ]);
    assert_eq!(o["status"], "CANCELLED");
    assert_eq!(o["cancel_reason"], "OPERATOR");
    let p = shop.json(&["products", "show", "4"]);
    assert_eq!(p["skus"][0]["reserved"], 0, "stock released");
    let audit = shop.json(&["audit", "list", "--action", "order.cancel"]);
    assert_eq!(audit[0]["after"]["note"], "客户要求");
}

/// Peak resident memory of a running child, read from /proc until it exits (Linux).
fn run_measuring(mut cmd: Command) -> (Output, u64) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let watcher = std::thread::spawn(move || {
        let mut peak_kb = 0u64;
        while let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
            if s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak_kb
    });
    let out = child.wait_with_output().unwrap();
    (out, watcher.join().unwrap())
}

/// 100,000 orders stream to CSV with flat memory: the peak stays far below what holding the
/// file (about 30 MB) plus the orders in memory would take.
#[tokio::test]
async fn export_of_a_hundred_thousand_orders_streams() {
    let shop = Shop::new();
    shop.json(&["migrate"]);
    let t0 = 1_795_485_600_000i64; // 2026-11-24 10:00 China
    shop.sql(&format!(
        "INSERT INTO users (id, openid, created_at) VALUES (1, 'openid_bulk', {t0});
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO orders (id, order_no, user_id, status, items_total_fen, shipping_fee_fen, payable_fen, paid_fen,
             receiver, phone, province, city, district, detail, remark, created_at, expires_at, paid_at, updated_at, version)
         SELECT 1000000 + i, 'RBULK' || i, 1, 'PAID', 12900, 0, 12900, 12900, '张三', '13812345678', '黑龙江省', '哈尔滨市',
             '五常市', '民乐乡红光村 1 号', '尽快发货', {t0} + i * 100, {t0} + i * 100 + 1800000, {t0} + i * 100 + 60000, {t0}, 1 FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO order_items SELECT 1000000 + i, 1, 5, 4, '五常大米 稻花香2号', '5kg 真空装', 12900, 1, 12900, NULL FROM n;"
    ))
    .await;
    let out_file = shop.dir.join("orders.csv");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shop-admin"));
    cmd.args([
        "--json",
        "orders",
        "export",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-24",
        "-o",
    ])
    .arg(&out_file)
    .env("SHOP_DATABASE_URL", shop.db_url())
    .env("SHOP_MEDIA_DIR", shop.dir.join("media"));
    let started = std::time::Instant::now();
    let (out, peak_kb) = run_measuring(cmd);
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["orders"], 100_000);
    assert_eq!(summary["rows"], 100_000);
    let bytes = std::fs::metadata(&out_file).unwrap().len();
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(text.lines().count(), 100_001, "header + one row per line");
    assert!(text.starts_with('\u{feff}'));
    eprintln!(
        "export: 100000 orders, {bytes} bytes, {:.1} s, peak RSS {} MiB",
        elapsed.as_secs_f64(),
        peak_kb / 1024
    );
    assert!(
        peak_kb < 64 * 1024,
        "peak RSS {peak_kb} KiB: the export is not streaming"
    );
}
