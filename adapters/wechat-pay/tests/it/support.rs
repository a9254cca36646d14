use poem::http::StatusCode;
use poem::{Endpoint, Request, Response};
use serde_json::Value;
use shop_core::ports::Clock;
use shop_memory::ManualClock;
use shop_wechat_pay::config::{TEST_APIV3_KEY, TEST_PLATFORM_SERIAL};
use shop_wechat_pay::crypto::{ApiV3Key, PlatformKeys, PublicKey, WechatpayHeaders};
use shop_wechat_pay::notify::{parse, Notice};
use shop_wechat_pay::{RetryPolicy, Sandbox, SandboxConfig, WechatPayClient, WechatPayConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn vectors() -> Value {
    serde_json::from_str(include_str!("../../testdata/vectors.json")).unwrap()
}

pub fn testdata(name: &str) -> String {
    std::fs::read_to_string(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

pub fn platform_keys() -> PlatformKeys {
    PlatformKeys::new(vec![(
        TEST_PLATFORM_SERIAL.into(),
        PublicKey::from_pem(&testdata("platform_public_key.pem")).unwrap(),
    )])
}

/// Serves `ep` on a free port of 127.0.0.1; returns its base URL.
pub async fn serve<E: Endpoint + 'static>(ep: E) -> String {
    use poem::listener::{Acceptor, Listener, TcpListener};
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].0.as_socket_addr().unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(ep));
    format!("http://{addr}")
}

/// What a receiver saw: headers (lower-case names) and the exact body.
pub type Seen = Vec<(HashMap<String, String>, String)>;

/// A callback receiver: records each request and answers the next scripted status (204 once
/// the script is used up).
#[derive(Clone)]
pub struct Receiver {
    pub seen: Arc<Mutex<Seen>>,
    pub script: Arc<Mutex<Vec<u16>>>,
    pub clock: Arc<dyn Clock>,
}

impl Endpoint for Receiver {
    type Output = Response;
    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = req.take_body().into_string().await.unwrap_or_default();
        self.seen.lock().unwrap().push((headers, body));
        let status = {
            let mut s = self.script.lock().unwrap();
            if s.is_empty() {
                204
            } else {
                s.remove(0)
            }
        };
        Ok(Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .finish())
    }
}

impl Receiver {
    pub fn new(clock: Arc<dyn Clock>) -> Receiver {
        Receiver {
            seen: Arc::default(),
            script: Arc::default(),
            clock,
        }
    }

    /// Each callback received, verified and decrypted as the shop would (or the reason not).
    pub fn notices(&self) -> Vec<Result<Notice, String>> {
        let keys = platform_keys();
        let apiv3 = ApiV3Key::new(TEST_APIV3_KEY).unwrap();
        let now = self.clock.now().seconds();
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(h, body)| {
                let h = WechatpayHeaders::read(|k| h.get(&k.to_ascii_lowercase()).cloned());
                parse(&keys, &apiv3, &h, body.as_bytes(), now).map_err(|e| e.reason().to_string())
            })
            .collect()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub async fn wait_for(&self, n: usize) {
        for _ in 0..500 {
            if self.count() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} callbacks, got {}", self.count());
    }
}

/// A sandbox served over HTTP, a client configured for it, a callback receiver, one clock.
pub struct World {
    pub sandbox: Sandbox,
    pub client: WechatPayClient,
    pub receiver: Receiver,
    pub clock: Arc<ManualClock>,
    pub base_url: String,
}

impl Drop for World {
    fn drop(&mut self) {
        self.sandbox.shutdown();
    }
}

/// `auto_settle`: refunds settle by themselves after this many ms (None: by hand).
pub async fn world(auto_settle: Option<u64>) -> World {
    let clock = Arc::new(ManualClock::starting_now());
    let receiver = Receiver::new(clock.clone());
    let notify = serve(receiver.clone()).await;
    let sb_cfg = SandboxConfig {
        time_scale: 0.0001,
        auto_settle_refunds_ms: auto_settle,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(sb_cfg, clock.clone()).unwrap();
    let root = serve(poem::Route::new().nest("/sandbox", sandbox.clone())).await;
    let env: HashMap<&str, String> = [
        ("SHOP_WECHAT_BASE_URL", format!("{root}/sandbox")),
        ("SHOP_WECHAT_NOTIFY_URL", format!("{notify}/notify")),
        (
            "SHOP_WECHAT_REFUND_NOTIFY_URL",
            format!("{notify}/refund-notify"),
        ),
    ]
    .into_iter()
    .collect();
    let cfg = WechatPayConfig::from_lookup(|k| env.get(k).cloned(), "http://unused").unwrap();
    let client = WechatPayClient::new(cfg, clock.clone())
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 3,
            first_pause: Duration::from_millis(5),
        });
    World {
        sandbox,
        client,
        receiver,
        clock,
        base_url: format!("{root}/sandbox"),
    }
}
