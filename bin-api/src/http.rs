//! What every request goes through: a request id (kept for the whole task so error bodies and
//! logs carry it), the body size limit, JSON error bodies for every failure — including the
//! framework's own (unknown route, bad method, missing auth) — and metrics by route.

use crate::error::{ApiErrorCode, ErrorBody, REQUEST_ID};
use crate::metrics::Metrics;
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use shop_core::ErrorCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncReadExt as _;

/// JSON bodies: 64 KiB is far more than any order or address needs.
pub const JSON_LIMIT: u64 = 64 * 1024;
/// Image uploads.
pub const UPLOAD_LIMIT: u64 = 6 * 1024 * 1024;
/// An oversized body up to this size is read and dropped before the 413 goes out, so that the
/// client sees the answer instead of a reset connection; bigger ones are cut off.
const DRAIN_LIMIT: u64 = 1024 * 1024;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A request id from the caller if it is sane, else a new one.
fn request_id(req: &Request) -> String {
    if let Some(v) = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
    {
        if (8..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return v.to_string();
        }
    }
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("r{t:x}{:04x}{n:x}", std::process::id() & 0xffff)
}

/// `/api/v1/orders/123/pay` → `/api/v1/orders/:id/pay`: bounded label cardinality.
pub fn route_label(path: &str) -> String {
    if path.starts_with("/media/") {
        return "/media/:file".into();
    }
    if path.starts_with("/admin/") && !path.starts_with("/admin/api") {
        return "/admin/:file".into();
    }
    path.split('/')
        .map(|seg| {
            let idish = !seg.is_empty()
                && (seg.bytes().all(|b| b.is_ascii_digit())
                    || (seg.len() > 8 && seg.bytes().any(|b| b.is_ascii_digit())));
            if idish {
                ":id"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// WeChat Pay's callbacks are answered in its own shape, `{"code": "FAIL", "message"}`.
const CALLBACK_ROUTES: &str = "/api/v1/payments/wechat/";

fn wechat_fail(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::json!({ "code": "FAIL", "message": message }).to_string())
}

fn json_error(status: StatusCode, code: ErrorCode, message: String, rid: &str) -> Response {
    let body = ErrorBody {
        code: ApiErrorCode::from(code),
        message,
        request_id: rid.to_string(),
        field: None,
    };
    let json = poem_openapi::types::ToJSON::to_json(&body).unwrap_or_default();
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json.to_string())
}

fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    }
}

fn message_for(status: StatusCode, raw: &str) -> String {
    match status {
        StatusCode::UNAUTHORIZED => "missing, invalid or expired session token".into(),
        StatusCode::NOT_FOUND => "no such resource".into(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this resource".into(),
        s if s.is_server_error() => "internal error".into(),
        _ if raw.is_empty() => status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_string(),
        _ => raw.chars().take(300).collect(),
    }
}

/// Turns any error or non-JSON error response into the JSON error body.
async fn normalise(resp: Response, rid: &str) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let raw = resp.into_body().into_string().await.unwrap_or_default();
    json_error(
        status,
        code_for_status(status),
        message_for(status, raw.trim()),
        rid,
    )
}

/// The middleware. Wrap the whole app with it.
pub async fn around<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    metrics: Metrics,
    shelf: Arc<crate::shelf::Shelf>,
) -> poem::Result<Response> {
    let rid = request_id(&req);
    let started = Instant::now();
    let method = req.method().clone();
    let route = route_label(req.uri().path());
    let limit = if route.ends_with("/images") {
        UPLOAD_LIMIT
    } else {
        JSON_LIMIT
    };

    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let resp = if let Some(n) = declared.filter(|n| *n > limit) {
        if n <= DRAIN_LIMIT {
            let mut body = req.take_body().into_async_read().take(n);
            let _ = tokio::io::copy(&mut body, &mut tokio::io::sink()).await;
        }
        let message = format!("the body may have at most {limit} bytes");
        if route.starts_with(CALLBACK_ROUTES) {
            // WeChat's callbacks are about 1 KiB: a huge one is forged or broken.
            metrics
                .callbacks_rejected
                .with_label_values(&["too_large"])
                .inc();
            tracing::warn!(request_id = %rid, route = %route, bytes = n, "WeChat callback refused: too large");
            wechat_fail(StatusCode::PAYLOAD_TOO_LARGE, &message)
        } else {
            json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                message,
                &rid,
            )
        }
    } else {
        if declared.is_none() && matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            // A body without a length is cut at the limit; a truncated JSON body fails to parse.
            let body = req.take_body();
            req.set_body(Body::from_async_read(body.into_async_read().take(limit)));
        }
        let result = REQUEST_ID.scope(rid.clone(), ep.call(req)).await;
        let resp = match result {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        normalise(resp, &rid).await
    };

    let status = resp.status();
    if method != Method::GET
        && status.is_success()
        && (route.starts_with("/api/v1/admin/products") || route.starts_with("/api/v1/admin/skus"))
    {
        // A catalogue change made here is visible to shoppers at once.
        shelf.clear();
    }
    let elapsed = started.elapsed().as_secs_f64();
    metrics
        .http_requests
        .with_label_values(&[method.as_str(), &route, status.as_str()])
        .inc();
    metrics
        .http_seconds
        .with_label_values(&[method.as_str(), &route])
        .observe(elapsed);
    if status.is_server_error() {
        tracing::warn!(request_id = %rid, %method, route = %route, status = status.as_u16(), ms = elapsed * 1000.0, "request failed");
    } else {
        tracing::debug!(request_id = %rid, %method, route = %route, status = status.as_u16(), ms = elapsed * 1000.0, "request");
    }
    let mut resp = resp;
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_hide_ids() {
        assert_eq!(
            route_label("/api/v1/orders/490154014588930/pay"),
            "/api/v1/orders/:id/pay"
        );
        assert_eq!(route_label("/api/v1/orders"), "/api/v1/orders");
        assert_eq!(
            route_label("/api/v1/cart/items/12"),
            "/api/v1/cart/items/:id"
        );
        assert_eq!(route_label("/media/12-foo.png"), "/media/:file");
    }
}
