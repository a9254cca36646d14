//! The client against a scripted stand-in for WeChat: what is retried (5xx, 429, network) with
//! the identical body, what is not (4xx), and answers that are not believed (bad or missing
//! signature, stale timestamp, unknown serial, a bill that does not hash).

use crate::support::{serve, testdata};
use poem::http::StatusCode;
use poem::{Endpoint, Request, Response};
use shop_core::ports::*;
use shop_core::text::{OpenId, OrderNo};
use shop_core::time::{BizDate, Span};
use shop_core::Fen;
use shop_memory::ManualClock;
use shop_wechat_pay::config::{TEST_MCHID, TEST_PLATFORM_SERIAL};
use shop_wechat_pay::crypto::{
    nonce, sha1_hex, verify_request, PublicKey, Signer, WechatpayHeaders,
};
use shop_wechat_pay::{RetryPolicy, WechatPayClient, WechatPayConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sign {
    Platform,
    WrongKey,
    Unsigned,
    Stale,
    UnknownSerial,
}

#[derive(Clone)]
struct Scripted {
    status: u16,
    body: String,
    sign: Sign,
}

fn answer(status: u16, body: &str, sign: Sign) -> Scripted {
    Scripted {
        status,
        body: body.into(),
        sign,
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: String,
    body: String,
}

/// Answers requests from a script (the last answer repeats), signing as told.
#[derive(Clone)]
struct FakeWechat {
    script: Arc<Mutex<Vec<Scripted>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    clock: Arc<ManualClock>,
}

impl Endpoint for FakeWechat {
    type Output = Response;
    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = req.take_body().into_string().await.unwrap_or_default();
        self.seen.lock().unwrap().push(Seen {
            method: req.method().to_string(),
            path: req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            authorization: req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .into(),
            body,
        });
        let a = {
            let mut s = self.script.lock().unwrap();
            if s.len() > 1 {
                s.remove(0)
            } else {
                s[0].clone()
            }
        };
        let mut now = self.clock.now().seconds();
        let key = match a.sign {
            Sign::WrongKey => "merchant_private_key.pem",
            _ => "platform_private_key.pem",
        };
        if a.sign == Sign::Stale {
            now -= 301;
        }
        let serial = if a.sign == Sign::UnknownSerial {
            "PUB_KEY_ID_UNKNOWN"
        } else {
            TEST_PLATFORM_SERIAL
        };
        let signer = Signer::from_pem(&testdata(key)).unwrap();
        let h = WechatpayHeaders::sign(
            &signer,
            serial,
            &now.to_string(),
            &nonce(32),
            a.body.as_bytes(),
        )
        .unwrap();
        let mut resp = Response::builder().status(StatusCode::from_u16(a.status).unwrap());
        if a.sign != Sign::Unsigned {
            for (k, v) in h.pairs() {
                resp = resp.header(k, v);
            }
        }
        Ok(resp.body(a.body))
    }
}

struct Fixture {
    client: WechatPayClient,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn fixture(script: Vec<Scripted>) -> Fixture {
    let clock = Arc::new(ManualClock::starting_now());
    let seen = Arc::new(Mutex::new(vec![]));
    let fake = FakeWechat {
        script: Arc::new(Mutex::new(script)),
        seen: seen.clone(),
        clock: clock.clone(),
    };
    let base = serve(fake).await;
    Fixture {
        client: client_for(&base, clock),
        seen,
    }
}

fn client_for(base: &str, clock: Arc<ManualClock>) -> WechatPayClient {
    let env: HashMap<&str, String> = [("SHOP_WECHAT_BASE_URL", base.to_string())]
        .into_iter()
        .collect();
    let cfg = WechatPayConfig::from_lookup(|k| env.get(k).cloned(), "http://unused").unwrap();
    WechatPayClient::new(cfg, clock)
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 4,
            first_pause: Duration::from_millis(5),
        })
}

fn prepay(no: &str) -> PrepayRequest {
    PrepayRequest {
        out_trade_no: OrderNo::parse(no).unwrap(),
        description: "五常大米 5kg".into(),
        amount: Fen::new(12900),
        payer: OpenId::parse("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").unwrap(),
        time_expire: shop_memory::SystemClock.now().plus(Span::minutes(28)),
    }
}

const PREPAID: &str = "{\"prepay_id\":\"wx_after_retries\"}";

#[tokio::test]
async fn server_errors_are_retried_with_the_identical_body() {
    let f = fixture(vec![
        answer(
            500,
            "{\"code\":\"SYSTEM_ERROR\",\"message\":\"系统错误\"}",
            Sign::Unsigned,
        ),
        answer(503, "", Sign::Unsigned),
        answer(200, PREPAID, Sign::Platform),
    ])
    .await;
    assert_eq!(
        f.client.prepay(&prepay("R2026RETRY1")).await.unwrap(),
        "wx_after_retries"
    );
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.body == seen[0].body),
        "identical parameters on every retry"
    );
    assert!(seen[0].body.contains("\"out_trade_no\":\"R2026RETRY1\""));
    // Each attempt is signed afresh (its own nonce), and each signature covers that same body.
    let merchant = PublicKey::from_pem(&testdata("merchant_public_key.pem")).unwrap();
    let now = shop_memory::SystemClock.now().seconds();
    let nonces: Vec<String> = seen
        .iter()
        .map(|s| {
            assert_eq!(
                (s.method.as_str(), s.path.as_str()),
                ("POST", "/v3/pay/transactions/jsapi")
            );
            verify_request(
                &merchant,
                TEST_MCHID,
                "POST",
                &s.path,
                &s.body,
                Some(&s.authorization),
                now,
            )
            .unwrap()
            .nonce
        })
        .collect();
    assert_ne!(nonces[0], nonces[1]);
}

#[tokio::test]
async fn too_many_requests_is_retried_too() {
    let f = fixture(vec![
        answer(
            429,
            "{\"code\":\"FREQUENCY_LIMITED\",\"message\":\"频率超限\"}",
            Sign::Platform,
        ),
        answer(200, PREPAID, Sign::Platform),
    ])
    .await;
    assert_eq!(
        f.client.prepay(&prepay("R2026RETRY2")).await.unwrap(),
        "wx_after_retries"
    );
    assert_eq!(f.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_4xx_is_an_answer_and_never_retried() {
    let f = fixture(vec![answer(
        400,
        "{\"code\":\"PARAM_ERROR\",\"message\":\"参数错误\"}",
        Sign::Platform,
    )])
    .await;
    let e = f.client.prepay(&prepay("R2026RETRY3")).await.unwrap_err();
    assert_eq!(
        e,
        GatewayError::Rejected {
            code: "PARAM_ERROR".into(),
            message: "参数错误".into()
        }
    );
    assert_eq!(f.seen.lock().unwrap().len(), 1);
    // Unsigned and not JSON: still an answer, with the status as its code.
    let f = fixture(vec![answer(403, "forbidden", Sign::Unsigned)]).await;
    assert!(
        matches!(f.client.prepay(&prepay("R2026RETRY4")).await, Err(GatewayError::Rejected { code, .. }) if code == "HTTP_403")
    );
    assert_eq!(f.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn giving_up_says_the_outcome_is_unknown() {
    let f = fixture(vec![answer(500, "", Sign::Unsigned)]).await;
    assert!(matches!(
        f.client.prepay(&prepay("R2026RETRY5")).await,
        Err(GatewayError::Unavailable(_))
    ));
    assert_eq!(
        f.seen.lock().unwrap().len(),
        4,
        "RetryPolicy.attempts in all"
    );
    // Nobody listening: network errors are retried and end the same way.
    let down = client_for("http://127.0.0.1:9", Arc::new(ManualClock::starting_now()));
    assert!(matches!(
        down.query(&OrderNo::parse("R2026DOWN01").unwrap()).await,
        Err(GatewayError::Unavailable(_))
    ));
}

#[tokio::test]
async fn answers_that_do_not_verify_are_not_believed() {
    for sign in [
        Sign::WrongKey,
        Sign::Unsigned,
        Sign::Stale,
        Sign::UnknownSerial,
    ] {
        let f = fixture(vec![answer(200, PREPAID, sign)]).await;
        let e = f.client.prepay(&prepay("R2026FORGE1")).await.unwrap_err();
        assert!(
            matches!(e, GatewayError::InvalidResponse(_)),
            "{sign:?}: {e:?}"
        );
        assert_eq!(
            f.seen.lock().unwrap().len(),
            1,
            "{sign:?}: a forged answer is not retried"
        );
    }
    // A 204 is signed too (over an empty body).
    let no = OrderNo::parse("R2026CLOSE1").unwrap();
    let f = fixture(vec![answer(204, "", Sign::Unsigned)]).await;
    assert!(matches!(
        f.client.close(&no).await,
        Err(GatewayError::InvalidResponse(_))
    ));
    let f = fixture(vec![answer(204, "", Sign::Platform)]).await;
    assert_eq!(f.client.close(&no).await.unwrap(), CloseOutcome::Closed);
    assert_eq!(f.seen.lock().unwrap()[0].body, "{\"mchid\":\"1900000109\"}");
    // A signed error answer that does not verify decides nothing.
    let f = fixture(vec![answer(
        400,
        "{\"code\":\"ORDER_PAID\",\"message\":\"订单已支付\"}",
        Sign::WrongKey,
    )])
    .await;
    assert!(matches!(
        f.client.close(&no).await,
        Err(GatewayError::InvalidResponse(_))
    ));
    let f = fixture(vec![answer(
        400,
        "{\"code\":\"ORDER_PAID\",\"message\":\"订单已支付\"}",
        Sign::Platform,
    )])
    .await;
    assert_eq!(
        f.client.close(&no).await.unwrap(),
        CloseOutcome::AlreadyPaid
    );
    // Well signed but not what was asked.
    let f = fixture(vec![answer(
        200,
        "{\"trade_state\":\"SUCCESS\",\"amount\":{\"total\":1}}",
        Sign::Platform,
    )])
    .await;
    assert!(
        matches!(f.client.query(&no).await, Err(GatewayError::InvalidResponse(m)) if m.contains("transaction_id"))
    );
    let no_amount =
        "{\"trade_state\":\"SUCCESS\",\"transaction_id\":\"4200002026112412345678901234\"}";
    let f = fixture(vec![answer(200, no_amount, Sign::Platform)]).await;
    assert!(
        matches!(f.client.query(&no).await, Err(GatewayError::InvalidResponse(m)) if m.contains("amount"))
    );
    let f = fixture(vec![answer(
        200,
        "{\"trade_state\":\"MAYBE\"}",
        Sign::Platform,
    )])
    .await;
    assert!(matches!(
        f.client.query(&no).await,
        Err(GatewayError::InvalidResponse(_))
    ));
}

#[tokio::test]
async fn trade_states_map_to_the_port() {
    let no = OrderNo::parse("R2026STATE1").unwrap();
    let cases = [
        ("NOTPAY", TradeState::NotPay),
        ("CLOSED", TradeState::Closed),
        ("REVOKED", TradeState::Revoked),
        ("USERPAYING", TradeState::UserPaying),
        ("PAYERROR", TradeState::PayError),
    ];
    for (state, want) in cases {
        let f = fixture(vec![answer(
            200,
            &format!("{{\"trade_state\":\"{state}\",\"out_trade_no\":\"R2026STATE1\"}}"),
            Sign::Platform,
        )])
        .await;
        assert_eq!(f.client.query(&no).await.unwrap(), want);
        assert_eq!(
            f.seen.lock().unwrap()[0].path,
            "/v3/pay/transactions/out-trade-no/R2026STATE1?mchid=1900000109"
        );
    }
    let refunded = "{\"trade_state\":\"REFUND\",\"transaction_id\":\"4200002026112412345678901234\",\"amount\":{\"total\":12900}}";
    let f = fixture(vec![answer(200, refunded, Sign::Platform)]).await;
    assert_eq!(
        f.client.query(&no).await.unwrap(),
        TradeState::Refund {
            transaction_id: shop_core::text::TransactionId::parse("4200002026112412345678901234")
                .unwrap(),
            amount: Fen::new(12900)
        }
    );
    let paid = "{\"trade_state\":\"SUCCESS\",\"transaction_id\":\"4200002026112412345678901234\",\"success_time\":\"2026-11-24T10:05:33+08:00\",\"amount\":{\"total\":12900}}";
    let f = fixture(vec![answer(200, paid, Sign::Platform)]).await;
    match f.client.query(&no).await.unwrap() {
        TradeState::Success {
            amount,
            paid_at,
            payload,
            ..
        } => {
            assert_eq!(amount, Fen::new(12900));
            assert_eq!(paid_at.to_rfc3339_cn(), "2026-11-24T10:05:33+08:00");
            assert_eq!(payload, paid);
        }
        other => panic!("{other:?}"),
    }
    let f = fixture(vec![answer(
        404,
        "{\"code\":\"ORDER_NOT_EXIST\",\"message\":\"订单不存在\"}",
        Sign::Platform,
    )])
    .await;
    assert_eq!(f.client.query(&no).await.unwrap(), TradeState::NotFound);
    let f = fixture(vec![answer(
        404,
        "{\"code\":\"RESOURCE_NOT_EXISTS\",\"message\":\"退款单不存在\"}",
        Sign::Platform,
    )])
    .await;
    assert_eq!(
        f.client
            .query_refund(&shop_core::text::RefundNo::parse("F2026NONE01").unwrap())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_bill_that_does_not_hash_is_refused() {
    let csv = testdata("tradebill_2026-11-24_ALL.csv");
    let date = BizDate::parse("2026-11-24").unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let seen = Arc::new(Mutex::new(vec![]));
    let script = Arc::new(Mutex::new(vec![]));
    let base = serve(FakeWechat {
        script: script.clone(),
        seen: seen.clone(),
        clock: clock.clone(),
    })
    .await;
    let client = client_for(&base, clock);
    let bill_answer = |hash: &str| {
        answer(200, &format!("{{\"download_url\":\"{base}/v3/billdownload/file?token=T1\",\"hash_type\":\"SHA1\",\"hash_value\":\"{hash}\"}}"), Sign::Platform)
    };

    *script.lock().unwrap() = vec![
        bill_answer(&sha1_hex(csv.as_bytes())),
        answer(200, &csv, Sign::Unsigned),
    ];
    let bill = client.trade_bill(date).await.unwrap();
    assert_eq!(
        (bill.total_settled, bill.total_refund, bill.total_fee),
        (Fen::new(38700), Fen::new(4300), Fen::new(206))
    );
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/v3/bill/tradebill?bill_date=2026-11-24&bill_type=ALL",
            "/v3/billdownload/file?token=T1"
        ]
    );

    *script.lock().unwrap() = vec![
        bill_answer(&sha1_hex(b"another file")),
        answer(200, &csv, Sign::Unsigned),
    ];
    assert!(
        matches!(client.trade_bill(date).await, Err(GatewayError::InvalidResponse(m)) if m.contains("SHA-1"))
    );

    let broken = csv.replacen("`387.00", "`388.00", 1);
    *script.lock().unwrap() = vec![
        bill_answer(&sha1_hex(broken.as_bytes())),
        answer(200, &broken, Sign::Unsigned),
    ];
    assert!(
        matches!(client.trade_bill(date).await, Err(GatewayError::InvalidResponse(m)) if m.contains("bill"))
    );

    *script.lock().unwrap() = vec![answer(
        400,
        "{\"code\":\"NO_STATEMENT_EXIST\",\"message\":\"账单不存在\"}",
        Sign::Platform,
    )];
    assert!(
        matches!(client.trade_bill(date).await, Err(GatewayError::Rejected { code, .. }) if code == "NO_STATEMENT_EXIST")
    );
}
