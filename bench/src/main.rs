//! `shop-loadgen`: load against a running shop, then the invariants checked in its database.
//!
//! ```text
//! shop-loadgen --base http://127.0.0.1:8080 --admin-password … --database-url mysql://… flash-sale
//! ```
//! The shop must allow the load: `SHOP_RATE_LIMIT_LOGIN` and `SHOP_RATE_LIMIT_ORDERS` high
//! (they protect real shoppers, not benchmarks). See docs/benchmarks.md.
#![allow(clippy::print_stdout)]

mod check;
mod scenarios;
mod shop;
mod stats;

use clap::{Parser, Subcommand};
use serde_json::json;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "shop-loadgen",
    version,
    about = "Load generator for the rice shop"
)]
struct Cli {
    /// The shop's base URL.
    #[arg(
        long,
        env = "SHOP_LOADGEN_BASE",
        default_value = "http://127.0.0.1:8080"
    )]
    base: String,
    /// Operator used to create the scenario's products.
    #[arg(long, default_value = "admin")]
    admin_user: String,
    #[arg(long, env = "SHOP_ADMIN_PASSWORD")]
    admin_password: Option<String>,
    /// The shop's database, to check the invariants after the run (mysql://… or sqlite://…).
    #[arg(long, env = "SHOP_LOADGEN_DATABASE_URL")]
    database_url: Option<String>,
    /// Also write the result as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Many distinct buyers, one SKU with little stock, everyone orders at once.
    FlashSale {
        #[arg(long, default_value_t = 10_000)]
        buyers: usize,
        #[arg(long, default_value_t = 100)]
        stock: i64,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
    },
    /// A large catalogue and steady order placement from many shoppers.
    Spread {
        #[arg(long, default_value_t = 1000)]
        skus: usize,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 3)]
        warmup: u64,
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
    /// Signed, encrypted payment callbacks for pending orders, with duplicates mixed in.
    Callbacks {
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        /// Extra copies of random callbacks, as a share of `orders`.
        #[arg(long, default_value_t = 0.2)]
        duplicates: f64,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// SKUs the orders are spread over (1–20): payments of one SKU share its stock row.
        #[arg(long, default_value_t = 10)]
        skus: usize,
    },
    /// Product list pages and product details.
    Browse {
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 3)]
        warmup: u64,
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let shop = shop::Shop::new(&cli.base, 1024)?;
    shop.ready().await?;
    let admin = || async {
        let pw = cli.admin_password.as_deref().ok_or_else(|| {
            anyhow::anyhow!("--admin-password (or SHOP_ADMIN_PASSWORD) is needed")
        })?;
        shop.admin(&cli.admin_user, pw).await
    };
    let (name, outcome) = match cli.scenario {
        Scenario::FlashSale {
            buyers,
            stock,
            concurrency,
        } => (
            "flash-sale",
            scenarios::flash_sale(&shop, &admin().await?, buyers, stock, concurrency).await?,
        ),
        Scenario::Spread {
            skus,
            users,
            concurrency,
            warmup,
            duration,
        } => (
            "spread",
            scenarios::spread(
                &shop,
                &admin().await?,
                skus,
                users,
                concurrency,
                Duration::from_secs(warmup),
                Duration::from_secs(duration),
            )
            .await?,
        ),
        Scenario::Callbacks {
            orders,
            duplicates,
            concurrency,
            skus,
        } => (
            "callbacks",
            scenarios::callbacks(
                &shop,
                &admin().await?,
                orders,
                duplicates,
                concurrency,
                skus,
            )
            .await?,
        ),
        Scenario::Browse {
            concurrency,
            warmup,
            duration,
        } => (
            "browse",
            scenarios::browse(
                &shop,
                concurrency,
                Duration::from_secs(warmup),
                Duration::from_secs(duration),
            )
            .await?,
        ),
    };
    println!("{name} against {}", cli.base);
    println!("{}", outcome.summary);
    println!("  facts: {}", outcome.facts);
    let invariants = match &cli.database_url {
        Some(url) => {
            let db = check::Db::connect(url).await?;
            let inv = db.invariants(&outcome.skus, outcome.stock_each).await?;
            println!("{inv}");
            let acknowledged = outcome.facts["orders_created"].as_i64().unwrap_or(0);
            if inv.orders < acknowledged {
                println!(
                    "  LOST: {acknowledged} orders were acknowledged but only {} are stored",
                    inv.orders
                );
                std::process::exit(2);
            }
            Some(inv)
        }
        None => {
            println!("  invariants: not checked (pass --database-url)");
            None
        }
    };
    if let Some(path) = &cli.json {
        let v = json!({
            "scenario": name, "base": cli.base, "summary": outcome.summary,
            "facts": outcome.facts, "invariants": invariants,
        });
        std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
    }
    if invariants.as_ref().is_some_and(|i| !i.hold()) {
        std::process::exit(2);
    }
    Ok(())
}
