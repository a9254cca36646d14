//! WeChat login against a local stand-in for api.weixin.qq.com: WeChat's errcodes (sent with
//! HTTP 200) become the port's typed errors, and the app secret never shows in an error.

use crate::support::serve;
use poem::http::StatusCode;
use poem::{Endpoint, Request, Response};
use shop_core::ports::{LoginError, WeChatLogin};
use shop_wechat_pay::{SandboxLogin, WechatLoginClient};
use std::sync::{Arc, Mutex};

const SECRET: &str = "s3cr3t0123456789abcdef0123456789";

/// Answers each js_code with a canned body: `code-<errcode>` gives that errcode.
#[derive(Clone, Default)]
struct Jscode2Session {
    queries: Arc<Mutex<Vec<String>>>,
}

impl Endpoint for Jscode2Session {
    type Output = Response;
    async fn call(&self, req: Request) -> poem::Result<Response> {
        let query = req.uri().query().unwrap_or("").to_string();
        self.queries
            .lock()
            .unwrap()
            .push(format!("{} {query}", req.uri().path()));
        let code = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("js_code="))
            .unwrap_or("");
        let (status, body) = match code {
            "good" => (200, r#"{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"oU_union"}"#.to_string()),
            "no-unionid" => (200, r#"{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","session_key":"k"}"#.to_string()),
            "no-openid" => (200, r#"{"session_key":"k"}"#.to_string()),
            "html" => (200, "<html>gateway</html>".to_string()),
            "http-502" => (502, "bad gateway".to_string()),
            other => {
                let errcode = other.strip_prefix("code").unwrap_or("0");
                (200, format!(r#"{{"errcode":{errcode},"errmsg":"msg for {errcode}"}}"#))
            }
        };
        Ok(Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .content_type("text/plain")
            .body(body))
    }
}

#[tokio::test]
async fn errcodes_become_typed_errors() {
    let server = Jscode2Session::default();
    let base = serve(server.clone()).await;
    let login = WechatLoginClient::new("wx1234567890abcdef", SECRET, &base).unwrap();

    let s = login.code_to_session("good").await.unwrap();
    assert_eq!(s.openid.as_str(), "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    assert_eq!(
        (s.session_key.as_str(), s.unionid.as_deref()),
        ("tiihtNczf5v6AKRyjwEUhQ==", Some("oU_union"))
    );
    assert_eq!(
        login.code_to_session("no-unionid").await.unwrap().unionid,
        None
    );
    let q = server.queries.lock().unwrap()[0].clone();
    assert!(q.starts_with("/sns/jscode2session "), "{q}");
    for part in [
        "appid=wx1234567890abcdef",
        &format!("secret={SECRET}"),
        "js_code=good",
        "grant_type=authorization_code",
    ] {
        assert!(q.contains(part), "{q} lacks {part}");
    }

    let cases = [
        ("code-1", "unavailable"),
        ("code40029", "invalid"),
        ("code40163", "invalid"),
        ("code45011", "rate"),
        ("code40226", "refused"),
        ("code12345", "unavailable"),
        ("no-openid", "unavailable"),
        ("html", "unavailable"),
        ("http-502", "unavailable"),
    ];
    for (code, want) in cases {
        let got = login.code_to_session(code).await.unwrap_err();
        let kind = match got {
            LoginError::InvalidCode => "invalid",
            LoginError::RateLimited => "rate",
            LoginError::Refused => "refused",
            LoginError::Unavailable(ref m) => {
                assert!(!m.contains(SECRET), "{m}");
                "unavailable"
            }
        };
        assert_eq!(kind, want, "{code}: {got:?}");
    }
}

#[tokio::test]
async fn bad_codes_never_reach_wechat_and_outages_hide_the_secret() {
    let server = Jscode2Session::default();
    let base = serve(server.clone()).await;
    let login = WechatLoginClient::new("wx1234567890abcdef", SECRET, &base).unwrap();
    for code in ["", &"a".repeat(129), "has space", "换行"] {
        assert_eq!(
            login.code_to_session(code).await.unwrap_err(),
            LoginError::InvalidCode,
            "{code}"
        );
    }
    assert!(server.queries.lock().unwrap().is_empty());

    // Nothing listens on port 9 of 127.0.0.1 (discard): a network failure.
    let down = WechatLoginClient::new("wx1234567890abcdef", SECRET, "http://127.0.0.1:9").unwrap();
    match down.code_to_session("good").await.unwrap_err() {
        LoginError::Unavailable(m) => assert!(!m.contains(SECRET), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(WechatLoginClient::new("wx1234567890abcdef", "", &base).is_err());
    let shown = format!("{login:?}");
    assert!(!shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn sandbox_login_gives_a_stable_openid_per_code() {
    let a = SandboxLogin.code_to_session("code-a").await.unwrap();
    assert_eq!(
        a.openid,
        SandboxLogin.code_to_session("code-a").await.unwrap().openid
    );
    assert_ne!(
        a.openid,
        SandboxLogin.code_to_session("code-b").await.unwrap().openid
    );
    assert!(a.openid.as_str().starts_with("sbx_"));
    assert_eq!(a.openid.as_str().len(), 4 + 24);
    assert_eq!(
        SandboxLogin.code_to_session("").await.unwrap_err(),
        LoginError::InvalidCode
    );
    assert_eq!(
        SandboxLogin
            .code_to_session(&"x".repeat(129))
            .await
            .unwrap_err(),
        LoginError::InvalidCode
    );
}
