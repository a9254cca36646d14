//! Health, readiness and metrics: what load balancers, Kubernetes and Prometheus call.

use crate::state::AppState;
use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

#[derive(Tags)]
enum PlatformTags {
    /// Liveness, readiness, metrics.
    Platform,
}

pub struct PlatformApi;

#[derive(Debug, Object)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Debug, Object)]
pub struct Health {
    pub status: String,
    pub checks: Vec<Check>,
}

#[derive(ApiResponse)]
pub enum Readiness {
    /// Every dependency answers.
    #[oai(status = 200)]
    Ready(Json<Health>),
    /// A dependency does not answer; take this replica out of rotation.
    #[oai(status = 503)]
    NotReady(Json<Health>),
}

#[OpenApi]
impl PlatformApi {
    /// The process is alive.
    #[oai(path = "/healthz", method = "get", tag = "PlatformTags::Platform")]
    async fn healthz(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            checks: vec![],
        })
    }

    /// The database (and Redis, if configured) answer.
    #[oai(path = "/readyz", method = "get", tag = "PlatformTags::Platform")]
    async fn readyz(&self, state: Data<&AppState>) -> Readiness {
        let mut checks = Vec::new();
        for (name, probe) in &state.probes {
            let r = tokio::time::timeout(std::time::Duration::from_secs(2), probe()).await;
            let error = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some("timed out after 2 s".into()),
            };
            checks.push(Check {
                name: name.to_string(),
                ok: error.is_none(),
                error,
            });
        }
        let ready = checks.iter().all(|c| c.ok);
        state.metrics.ready.set(i64::from(ready));
        let health = Json(Health {
            status: if ready {
                "ready".into()
            } else {
                "not ready".into()
            },
            checks,
        });
        if ready {
            Readiness::Ready(health)
        } else {
            Readiness::NotReady(health)
        }
    }

    /// Prometheus metrics.
    #[oai(path = "/metrics", method = "get", tag = "PlatformTags::Platform")]
    async fn metrics(&self, state: Data<&AppState>) -> PlainText<String> {
        PlainText(state.metrics.render())
    }
}
