//! The HTTP contract: the committed OpenAPI document matches the code, the documented error
//! codes are the core's, and every response carries a request id.

use crate::support::TestApp;
use reqwest::StatusCode;

#[test]
fn committed_openapi_matches_the_code() {
    let generated = shop_api::openapi_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("SHOP_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
        return;
    }
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json is out of date: run `cargo run -p shop-api -- openapi > docs/openapi.json` \
         (or SHOP_UPDATE_OPENAPI=1 cargo nextest run -p shop-api committed_openapi) and commit it"
    );
}

#[test]
fn documented_error_codes_are_the_core_list() {
    let spec: serde_json::Value = serde_json::from_str(&shop_api::openapi_json()).unwrap();
    let documented: Vec<String> = spec["components"]["schemas"]["ApiErrorCode"]["enum"]
        .as_array()
        .expect("the error codes are an enum in the schema")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let core: Vec<String> = shop_core::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(documented, core);
}

#[tokio::test]
async fn every_response_has_a_request_id_and_json_errors() {
    let app = TestApp::sqlite().await;
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/products",
        "/api/v1/orders",
        "/nope",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let rid = r
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(
            rid.as_deref().is_some_and(|r| r.len() >= 8),
            "{path}: {rid:?}"
        );
        if r.status().is_client_error() {
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(v["request_id"].as_str(), rid.as_deref(), "{path}");
        }
    }
    // A caller's own request id is kept, so logs on both sides line up.
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "client-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-abc-123");
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/products\""));
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
}

/// The web console is served from `SHOP_ADMIN_WEB_DIR`, but only its page, css/ and js/: the
/// tests, screenshots and packages that sit next to it during development stay private.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_console_serves_only_its_own_files() {
    let dir = std::env::temp_dir().join(format!(
        "shop-admin-web-{}",
        shop_contract_tests::unique_suffix()
    ));
    for (file, body) in [
        ("index.html", "<!doctype html><title>运营后台</title>"),
        ("css/app.css", "body{}"),
        ("js/main.js", "export {};"),
        ("package.json", "{}"),
        ("test-artifacts/shop-api.log", "secret log"),
    ] {
        let p = dir.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let app = TestApp::sqlite_with(&[("SHOP_ADMIN_WEB_DIR", dir.to_str().unwrap())]).await;
    let get = |path: &'static str| {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let url = app.url(path);
        async move { client.get(url).send().await.unwrap() }
    };
    let r = get("/admin/").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("运营后台"));
    assert_eq!(get("/admin/css/app.css").await.status(), StatusCode::OK);
    assert_eq!(get("/admin/js/main.js").await.status(), StatusCode::OK);
    assert_eq!(get("/admin").await.status(), StatusCode::MOVED_PERMANENTLY);
    for private in ["/admin/package.json", "/admin/test-artifacts/shop-api.log"] {
        assert_eq!(
            get(private).await.status(),
            StatusCode::NOT_FOUND,
            "{private}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
