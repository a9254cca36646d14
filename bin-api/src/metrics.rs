//! Prometheus metrics, exposed at `GET /metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub orders_created: IntCounter,
    pub orders_failed: IntCounterVec,
    pub gate_fallbacks: IntCounter,
    pub callbacks: IntCounterVec,
    pub callback_seconds: HistogramVec,
    pub callbacks_rejected: IntCounterVec,
    pub payments_confirmed: IntCounterVec,
    pub ready: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn counter_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, prometheus::Error> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let r = Registry::new();
        let latency_buckets = vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(latency_buckets.clone()),
            &["method", "route"],
        )?;
        r.register(Box::new(http_seconds.clone()))?;
        let callback_seconds = HistogramVec::new(
            HistogramOpts::new(
                "shop_payment_callback_duration_seconds",
                "Time to verify, decrypt and record a WeChat callback",
            )
            .buckets(vec![
                0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
                0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["kind"],
        )?;
        r.register(Box::new(callback_seconds.clone()))?;
        let orders_created = IntCounter::new("shop_orders_created_total", "Orders placed")?;
        r.register(Box::new(orders_created.clone()))?;
        let gate_fallbacks = IntCounter::new(
            "shop_gate_fallbacks_total",
            "Orders placed on the database alone because the stock gate was unavailable",
        )?;
        r.register(Box::new(gate_fallbacks.clone()))?;
        let ready = IntGauge::new(
            "shop_ready",
            "1 when the database (and Redis, if configured) answer",
        )?;
        r.register(Box::new(ready.clone()))?;
        Ok(Metrics {
            http_requests: counter_vec(
                &r,
                "http_requests_total",
                "HTTP requests by route and status",
                &["method", "route", "status"],
            )?,
            orders_failed: counter_vec(
                &r,
                "shop_orders_failed_total",
                "Order placements refused, by error code",
                &["reason"],
            )?,
            callbacks: counter_vec(
                &r,
                "shop_payment_callbacks_total",
                "WeChat callbacks by kind and outcome",
                &["kind", "outcome"],
            )?,
            callbacks_rejected: counter_vec(
                &r,
                "shop_payment_callbacks_rejected_total",
                "Callbacks refused as forged, broken or mismatched (security events)",
                &["reason"],
            )?,
            payments_confirmed: counter_vec(
                &r,
                "shop_payments_confirmed_total",
                "Payments recorded, by outcome",
                &["outcome"],
            )?,
            registry: r,
            http_seconds,
            orders_created,
            gate_fallbacks,
            callback_seconds,
            ready,
        })
    }

    /// The registry, for metrics of jobs run inside the API process.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
