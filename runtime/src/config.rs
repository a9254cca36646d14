//! The one configuration struct, read once from the environment and validated at start.
//! With no environment at all the shop runs embedded: SQLite file, in-process stock gate, the
//! WeChat Pay and login sandbox, demo catalogue.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn bad(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(String),
    MySql { url: String, max_connections: u32 },
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `SHOP_LISTEN`, default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `SHOP_PUBLIC_URL`: how clients reach this server, for image and notify URLs; default
    /// `http://<listen address>`.
    pub public_url: Option<String>,
    /// `SHOP_DATABASE_URL`: `sqlite://path` (default `sqlite://data/shop.db`) or `mysql://…`.
    pub database: Database,
    /// `SHOP_REDIS_URL`: the Redis stock gate, rate limiter and event stream; none = in process.
    pub redis_url: Option<String>,
    /// `SHOP_REDIS_PREFIX`, default `shop`.
    pub redis_prefix: String,
    /// `SHOP_NODE_ID` 0–15: must differ between replicas (ids embed it). Default 0.
    pub node_id: u16,
    /// `SHOP_MEDIA_DIR`: uploaded images, default `data/media`.
    pub media_dir: PathBuf,
    /// `SHOP_ADMIN_PASSWORD`: password of the first `admin` when no operator exists yet.
    pub admin_password: Option<String>,
    /// `SHOP_SEED_DEMO`: `true` seeds the demo catalogue into an empty database. Default: true
    /// for SQLite, false for MySQL.
    pub seed_demo: bool,
    /// `SHOP_UNPAID_TIMEOUT_MINUTES`, default 30.
    pub unpaid_timeout_minutes: i64,
    /// `SHOP_AUTO_CONFIRM_DAYS`, default 10.
    pub auto_confirm_days: i64,
    /// `SHOP_SESSION_DAYS` for shoppers, default 7.
    pub session_days: i64,
    /// `SHOP_LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_json: bool,
    /// `SHOP_RATE_LIMIT_LOGIN` per minute per client address, default 120 (many shoppers share
    /// a carrier's NAT address); `SHOP_RATE_LIMIT_ORDERS` per minute per shopper, default 20.
    pub rate_login_per_minute: u32,
    pub rate_orders_per_minute: u32,
    /// `SHOP_CATALOGUE_CACHE_MS`: how long shoppers' product pages and details are served from
    /// memory, default 1000; 0 turns the cache off. Stock shown may lag this much; orders never do.
    pub catalogue_cache_ms: i64,
    /// `SHOP_EVENTS_FILE`: where events go without Redis, default `data/events.jsonl`.
    pub events_file: PathBuf,
    /// `SHOP_EMBEDDED_WORKER`: run the worker's jobs inside the API process. Default: true
    /// without Redis (the in-process stock gate must see the worker's releases), false with it.
    pub embedded_worker: bool,
    /// `SHOP_WORKER_ID`: this worker's name in claims and leases; default host name + pid.
    pub worker_id: String,
    /// `SHOP_WORKER_METRICS_LISTEN`: where a standalone worker serves `/metrics`, default
    /// `127.0.0.1:9091`.
    pub worker_metrics_listen: SocketAddr,
    /// `SHOP_ADMIN_WEB_DIR`: the web console's files, default `frontend/admin` when present.
    pub admin_web_dir: Option<PathBuf>,
    /// The `SHOP_WECHAT_*` and `SHOP_SANDBOX_*` variables, read by `shop-wechat-pay` (see its
    /// README): mode, keys, URLs. Kept apart so that secrets never appear in this struct's Debug.
    pub wechat_env: WechatEnv,
}

/// WeChat Pay settings as given; their Debug output hides the values.
#[derive(Clone, Default)]
pub struct WechatEnv(pub std::collections::HashMap<String, String>);

impl std::fmt::Debug for WechatEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

const WECHAT_VARS: &[&str] = &[
    "SHOP_WECHAT_MODE",
    "SHOP_WECHAT_BASE_URL",
    "SHOP_WECHAT_MCHID",
    "SHOP_WECHAT_APPID",
    "SHOP_WECHAT_APP_SECRET",
    "SHOP_WECHAT_MERCHANT_SERIAL",
    "SHOP_WECHAT_MERCHANT_KEY",
    "SHOP_WECHAT_MERCHANT_KEY_FILE",
    "SHOP_WECHAT_PLATFORM_KEYS",
    "SHOP_WECHAT_APIV3_KEY",
    "SHOP_WECHAT_APIV3_KEY_FILE",
    "SHOP_WECHAT_NOTIFY_URL",
    "SHOP_WECHAT_REFUND_NOTIFY_URL",
    "SHOP_WECHAT_LOGIN_BASE_URL",
    "SHOP_SANDBOX_PLATFORM_KEY",
    "SHOP_SANDBOX_PLATFORM_KEY_FILE",
    "SHOP_SANDBOX_PLATFORM_SERIAL",
    "SHOP_SANDBOX_MERCHANT_PUBLIC_KEY",
    "SHOP_SANDBOX_MERCHANT_PUBLIC_KEY_FILE",
    "SHOP_SANDBOX_TIME_SCALE",
    "SHOP_SANDBOX_REFUND_SETTLE_MS",
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads from any lookup function, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let listen: SocketAddr = get("SHOP_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| bad("SHOP_LISTEN", format!("not an address:port ({e})")))?;
        let db_url = get("SHOP_DATABASE_URL").unwrap_or_else(|| "sqlite://data/shop.db".into());
        let max_connections = parse_num(&get, "SHOP_DB_MAX_CONNECTIONS", 32, 1, 1024)? as u32;
        let database = if db_url.starts_with("sqlite:") {
            Database::Sqlite(db_url)
        } else if db_url.starts_with("mysql://") || db_url.starts_with("mariadb://") {
            Database::MySql {
                url: db_url.replacen("mariadb://", "mysql://", 1),
                max_connections,
            }
        } else {
            return Err(bad(
                "SHOP_DATABASE_URL",
                "must start with sqlite: or mysql://",
            ));
        };
        let redis_url = get("SHOP_REDIS_URL");
        if let Some(u) = &redis_url {
            if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
                return Err(bad(
                    "SHOP_REDIS_URL",
                    "must start with redis:// or rediss://",
                ));
            }
        }
        let seed_default = matches!(database, Database::Sqlite(_));
        let redis_default_embedded = redis_url.is_none();
        let admin_web_dir = get("SHOP_ADMIN_WEB_DIR").map(PathBuf::from).or_else(|| {
            let default = PathBuf::from("frontend/admin");
            default.join("index.html").exists().then_some(default)
        });
        Ok(Config {
            listen,
            public_url: get("SHOP_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string()),
            database,
            redis_url,
            redis_prefix: get("SHOP_REDIS_PREFIX").unwrap_or_else(|| "shop".into()),
            node_id: parse_num(&get, "SHOP_NODE_ID", 0, 0, 15)? as u16,
            media_dir: get("SHOP_MEDIA_DIR")
                .map_or_else(|| PathBuf::from("data/media"), PathBuf::from),
            admin_password: get("SHOP_ADMIN_PASSWORD"),
            seed_demo: parse_bool(&get, "SHOP_SEED_DEMO", seed_default)?,
            unpaid_timeout_minutes: parse_num(&get, "SHOP_UNPAID_TIMEOUT_MINUTES", 30, 5, 24 * 60)?,
            auto_confirm_days: parse_num(&get, "SHOP_AUTO_CONFIRM_DAYS", 10, 1, 60)?,
            session_days: parse_num(&get, "SHOP_SESSION_DAYS", 7, 1, 90)?,
            log_json: match get("SHOP_LOG_FORMAT").as_deref() {
                None | Some("pretty") => false,
                Some("json") => true,
                Some(other) => {
                    return Err(bad(
                        "SHOP_LOG_FORMAT",
                        format!("`{other}`: use pretty or json"),
                    ))
                }
            },
            rate_login_per_minute: parse_num(&get, "SHOP_RATE_LIMIT_LOGIN", 120, 1, 1_000_000)?
                as u32,
            rate_orders_per_minute: parse_num(&get, "SHOP_RATE_LIMIT_ORDERS", 20, 1, 1_000_000)?
                as u32,
            catalogue_cache_ms: parse_num(&get, "SHOP_CATALOGUE_CACHE_MS", 1000, 0, 60_000)?,
            events_file: get("SHOP_EVENTS_FILE")
                .map_or_else(|| PathBuf::from("data/events.jsonl"), PathBuf::from),
            embedded_worker: parse_bool(&get, "SHOP_EMBEDDED_WORKER", redis_default_embedded)?,
            worker_id: get("SHOP_WORKER_ID").unwrap_or_else(|| {
                let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
                format!("{host}-{}", std::process::id())
            }),
            worker_metrics_listen: get("SHOP_WORKER_METRICS_LISTEN")
                .unwrap_or_else(|| "127.0.0.1:9091".into())
                .parse()
                .map_err(|e| {
                    bad(
                        "SHOP_WORKER_METRICS_LISTEN",
                        format!("not an address:port ({e})"),
                    )
                })?,
            admin_web_dir,
            wechat_env: WechatEnv(
                WECHAT_VARS
                    .iter()
                    .filter_map(|k| get(k).map(|v| (k.to_string(), v)))
                    .collect(),
            ),
        })
    }

    /// The base URL clients use to reach this server.
    pub fn public_base(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| bad(name, format!("`{v}` is not a number")))?;
            if !(min..=max).contains(&n) {
                return Err(bad(name, format!("{n} is outside {min}..={max}")));
            }
            Ok(n)
        }
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes") => Ok(true),
        Some("0" | "false" | "no") => Ok(false),
        Some(v) => Err(bad(name, format!("`{v}` is not true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn embedded_defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database, Database::Sqlite("sqlite://data/shop.db".into()));
        assert!(c.redis_url.is_none());
        assert!(c.seed_demo);
    }

    #[test]
    fn production_switches() {
        let c = cfg(&[
            ("SHOP_DATABASE_URL", "mysql://shop:pw@db:3306/shop"),
            ("SHOP_REDIS_URL", "redis://cache:6379"),
            ("SHOP_LISTEN", "0.0.0.0:9000"),
        ])
        .unwrap();
        assert!(matches!(c.database, Database::MySql { .. }));
        assert!(!c.seed_demo);
        assert_eq!(c.listen.port(), 9000);
    }

    #[test]
    fn clear_errors() {
        assert_eq!(
            cfg(&[("SHOP_LISTEN", "nowhere")]).unwrap_err().name,
            "SHOP_LISTEN"
        );
        assert_eq!(
            cfg(&[("SHOP_DATABASE_URL", "postgres://x")])
                .unwrap_err()
                .name,
            "SHOP_DATABASE_URL"
        );
        assert_eq!(
            cfg(&[("SHOP_NODE_ID", "16")]).unwrap_err().name,
            "SHOP_NODE_ID"
        );
        assert_eq!(
            cfg(&[("SHOP_REDIS_URL", "localhost")]).unwrap_err().name,
            "SHOP_REDIS_URL"
        );
        assert_eq!(
            cfg(&[("SHOP_SEED_DEMO", "maybe")]).unwrap_err().name,
            "SHOP_SEED_DEMO"
        );
    }
}
