//! # shop-worker
//!
//! The jobs that keep the shop honest when nobody is looking. Each job runs where it holds the
//! job's lease (`job_leases`), so replicas take turns and the table says when each last ran
//! and how it went; jobs that work on rows also claim those rows (`FOR UPDATE SKIP LOCKED`), so
//! even overlapping runs never handle the same order, payment or refund twice. Every instant
//! comes from the clock port: tests move a manual clock instead of sleeping.

use futures::future::join_all;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use shop_core::ports::{Clock, JobLeases, OutboxStore};
use shop_core::time::{BizDate, Span};
use shop_core::usecases::{ExpireReport, Operations};
use shop_core::{Shop, ShopError};
use std::sync::Arc;
use std::time::Duration;

/// The jobs, by the names `shop-worker once <job>` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Cancel unpaid orders past their expiry, closing the WeChat order first.
    ExpireUnpaid,
    /// Ask WeChat about payments still pending after a few minutes (lost callbacks).
    PaymentSweep,
    /// Send approved refunds and poll those in progress; alert on ABNORMAL.
    RefundSweep,
    /// Complete shipped orders after the auto-confirm period.
    AutoConfirm,
    /// Reconcile a day against WeChat's trade bill (yesterday by default).
    Reconcile,
    /// Publish outbox events to the stream, in order.
    OutboxRelay,
    /// Compare the stock gate with the database and repair stable drift.
    GateCheck,
    /// Forget old idempotency keys and expired sessions.
    Purge,
}

impl Job {
    pub const ALL: [Job; 8] = [
        Job::ExpireUnpaid,
        Job::PaymentSweep,
        Job::RefundSweep,
        Job::AutoConfirm,
        Job::Reconcile,
        Job::OutboxRelay,
        Job::GateCheck,
        Job::Purge,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Job::ExpireUnpaid => "expire-unpaid",
            Job::PaymentSweep => "payment-sweep",
            Job::RefundSweep => "refund-sweep",
            Job::AutoConfirm => "auto-confirm",
            Job::Reconcile => "reconcile",
            Job::OutboxRelay => "outbox-relay",
            Job::GateCheck => "gate-check",
            Job::Purge => "purge",
        }
    }

    pub fn parse(s: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == s)
    }

    /// How often the daemon runs it.
    pub const fn every(self) -> Duration {
        match self {
            Job::OutboxRelay => Duration::from_secs(1),
            Job::ExpireUnpaid => Duration::from_secs(15),
            Job::PaymentSweep | Job::RefundSweep | Job::GateCheck => Duration::from_secs(60),
            Job::AutoConfirm | Job::Reconcile | Job::Purge => Duration::from_secs(3600),
        }
    }
}

/// Rows a job claims at a time.
const BATCH: u32 = 200;
/// How long one run of a draining job (expire-unpaid) keeps taking batches: well inside its
/// lease (twice its period, at least 60 s).
const RUN_BUDGET: Duration = Duration::from_secs(20);
/// A payment without a callback this long after its prepay is asked about.
const SWEEP_AFTER: Span = Span::minutes(5);
/// WeChat publishes the bill of a day from about 10:00 the next day (China time).
const BILL_READY_HOUR_CN: i64 = 10;

#[derive(Clone, Debug)]
pub struct WorkerMetrics {
    pub runs: IntCounterVec,
    pub seconds: HistogramVec,
    pub items: IntCounterVec,
    pub recon_differences: IntGauge,
    pub outbox_pending: IntGauge,
    pub outbox_oldest_seconds: IntGauge,
}

impl WorkerMetrics {
    pub fn register(r: &Registry) -> Result<WorkerMetrics, prometheus::Error> {
        let runs = IntCounterVec::new(
            Opts::new("shop_worker_job_runs_total", "Job runs by outcome"),
            &["job", "outcome"],
        )?;
        let seconds = HistogramVec::new(
            HistogramOpts::new("shop_worker_job_duration_seconds", "Job run time")
                .buckets(vec![0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0]),
            &["job"],
        )?;
        let items = IntCounterVec::new(
            Opts::new(
                "shop_worker_items_total",
                "What jobs did: orders expired, payments recovered, refunds settled …",
            ),
            &["job", "what"],
        )?;
        let recon_differences = IntGauge::new(
            "shop_reconciliation_differences",
            "Differences found by the last reconciliation",
        )?;
        let outbox_pending = IntGauge::new(
            "shop_outbox_pending",
            "Events written but not yet published",
        )?;
        let outbox_oldest_seconds = IntGauge::new(
            "shop_outbox_oldest_seconds",
            "Age of the oldest unpublished event",
        )?;
        r.register(Box::new(runs.clone()))?;
        r.register(Box::new(seconds.clone()))?;
        r.register(Box::new(items.clone()))?;
        r.register(Box::new(recon_differences.clone()))?;
        r.register(Box::new(outbox_pending.clone()))?;
        r.register(Box::new(outbox_oldest_seconds.clone()))?;
        Ok(WorkerMetrics {
            runs,
            seconds,
            items,
            recon_differences,
            outbox_pending,
            outbox_oldest_seconds,
        })
    }
}

/// What a run did, for logs, the lease table and `once`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done(String),
    /// Another worker holds the job's lease.
    Skipped,
}

pub struct Worker {
    pub shop: Shop,
    pub ops: Arc<Operations>,
    pub leases: Arc<dyn JobLeases>,
    pub outbox: Arc<dyn OutboxStore>,
    pub clock: Arc<dyn Clock>,
    pub owner: String,
    pub metrics: WorkerMetrics,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Worker {
    fn count(&self, job: Job, what: &str, n: usize) {
        if n > 0 {
            self.metrics
                .items
                .with_label_values(&[job.name(), what])
                .inc_by(n as u64);
        }
    }

    /// Runs one job now, without the lease (the lease is `tick`'s business).
    pub async fn run_job(&self, job: Job, date: Option<BizDate>) -> Result<String, ShopError> {
        Ok(match job {
            Job::ExpireUnpaid => {
                // A full batch means more may be due (a flash sale's unpaid orders expire
                // together): keep going, within the run's budget, instead of releasing 200
                // orders' stock per tick.
                let started = std::time::Instant::now();
                let mut r = ExpireReport::default();
                loop {
                    let batch = self.shop.expire_unpaid(&self.owner, BATCH).await?;
                    r.examined += batch.examined;
                    r.cancelled += batch.cancelled;
                    r.paid += batch.paid;
                    r.skipped += batch.skipped;
                    r.failed += batch.failed;
                    if batch.examined < BATCH as usize
                        || batch.failed > 0
                        || started.elapsed() >= RUN_BUDGET
                    {
                        break;
                    }
                }
                self.count(job, "cancelled", r.cancelled);
                self.count(job, "paid_instead", r.paid);
                if r.failed > 0 {
                    return Err(ShopError::Unavailable(format!(
                        "{} of {} orders could not be expired; retried after their claim lapses",
                        r.failed, r.examined
                    )));
                }
                format!(
                    "examined {}, cancelled {}, paid instead {}, skipped {}",
                    r.examined, r.cancelled, r.paid, r.skipped
                )
            }
            Job::PaymentSweep => {
                let r = self
                    .shop
                    .sweep_payments(&self.owner, SWEEP_AFTER, BATCH)
                    .await?;
                self.count(job, "recovered", r.confirmed);
                if r.failed > 0 {
                    return Err(ShopError::Unavailable(format!(
                        "{} of {} payments could not be checked",
                        r.failed, r.examined
                    )));
                }
                format!(
                    "examined {}, recovered {}, unpaid {}",
                    r.examined, r.confirmed, r.unpaid
                )
            }
            Job::RefundSweep => {
                let r = self.shop.sweep_refunds(&self.owner, BATCH).await?;
                self.count(job, "succeeded", r.succeeded);
                self.count(job, "failed", r.failed);
                self.count(job, "abnormal", r.abnormal);
                self.count(job, "sent", r.sent);
                if r.errors > 0 {
                    return Err(ShopError::Unavailable(format!(
                        "{} of {} refunds could not be advanced",
                        r.errors, r.examined
                    )));
                }
                format!(
                    "examined {}, sent {}, succeeded {}, failed {}, abnormal {}, processing {}",
                    r.examined, r.sent, r.succeeded, r.failed, r.abnormal, r.processing
                )
            }
            Job::AutoConfirm => {
                let n = self.shop.auto_confirm(BATCH).await?;
                self.count(job, "completed", n);
                format!("completed {n}")
            }
            Job::Reconcile => {
                let date = date.unwrap_or_else(|| self.clock.now().cn_date().prev());
                let r = self.ops.reconcile_day(date).await?;
                self.metrics
                    .recon_differences
                    .set(r.differences.len() as i64);
                format!(
                    "{date}: bill {} rows {}, local {} payments {}, {} differences",
                    r.bill_count,
                    r.bill_settled,
                    r.local_count,
                    r.local_paid,
                    r.differences.len()
                )
            }
            Job::OutboxRelay => {
                let n = self.ops.relay_outbox(500).await?;
                self.count(job, "published", n);
                if let Ok(lag) = self.outbox.lag().await {
                    self.metrics.outbox_pending.set(lag.pending);
                    let age = lag
                        .oldest
                        .map_or(0, |t| self.clock.now().since(t).as_seconds());
                    self.metrics.outbox_oldest_seconds.set(age);
                }
                format!("published {n}")
            }
            Job::GateCheck => {
                let r = self.ops.check_gate().await?;
                self.count(job, "repaired", r.repaired.len());
                format!(
                    "checked {}, drifting {}, repaired {}",
                    r.checked,
                    r.drifting,
                    r.repaired.len()
                )
            }
            Job::Purge => {
                let r = self.ops.purge().await?;
                format!(
                    "forgot {} idempotency keys, {} sessions",
                    r.idempotency_keys, r.sessions
                )
            }
        })
    }

    /// Runs a job if this worker can take its lease, and records the outcome in the lease row.
    pub async fn tick(&self, job: Job, date: Option<BizDate>) -> Result<Outcome, ShopError> {
        let now = self.clock.now();
        let lease = Span::seconds(i64::try_from(job.every().as_secs()).unwrap_or(60).max(30) * 2);
        let held = self
            .leases
            .acquire(job.name(), &self.owner, now, lease)
            .await
            .map_err(lease_err)?;
        if !held {
            return Ok(Outcome::Skipped);
        }
        let started = std::time::Instant::now();
        let result = self.run_job(job, date).await;
        self.metrics
            .seconds
            .with_label_values(&[job.name()])
            .observe(started.elapsed().as_secs_f64());
        let (ok, note) = match &result {
            Ok(n) => (true, n.clone()),
            Err(e) => (false, e.to_string()),
        };
        self.metrics
            .runs
            .with_label_values(&[job.name(), if ok { "ok" } else { "error" }])
            .inc();
        if let Err(e) = self
            .leases
            .finish(job.name(), &self.owner, self.clock.now(), ok, &note)
            .await
        {
            tracing::warn!(job = job.name(), error = %e, "could not record the job outcome");
        }
        result.map(Outcome::Done)
    }

    /// Whether the daemon should reconcile yesterday now: after the bill is out, and only
    /// if the day has no report yet.
    async fn reconcile_due(&self) -> bool {
        let now = self.clock.now();
        let hour_cn = now.since(now.cn_date().start()).as_millis() / 3_600_000;
        if hour_cn < BILL_READY_HOUR_CN {
            return false;
        }
        matches!(self.ops.recon.report(now.cn_date().prev()).await, Ok(None))
    }

    /// Runs every job on its interval until `stop` resolves; a run that fails is logged and
    /// retried on the next tick.
    pub async fn run(self: Arc<Self>, jobs: Vec<Job>, stop: tokio::sync::watch::Receiver<bool>) {
        let loops = jobs.into_iter().map(|job| {
            let me = self.clone();
            let mut stop = stop.clone();
            async move {
                let mut every = tokio::time::interval(job.every());
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = every.tick() => {}
                        _ = stop.changed() => return,
                    }
                    if job == Job::Reconcile && !me.reconcile_due().await {
                        continue;
                    }
                    match me.tick(job, None).await {
                        Ok(Outcome::Done(note)) => {
                            if job != Job::OutboxRelay || note != "published 0" {
                                tracing::info!(job = job.name(), "{note}");
                            }
                        }
                        Ok(Outcome::Skipped) => tracing::debug!(job = job.name(), "another worker holds the lease"),
                        Err(e) => tracing::warn!(job = job.name(), error = %e, "job failed; retrying next tick"),
                    }
                }
            }
        });
        join_all(loops).await;
    }
}

fn lease_err(e: shop_core::ports::LeaseError) -> ShopError {
    match e {
        shop_core::ports::LeaseError::Store(s) => s.into(),
    }
}

/// Builds a worker on a runtime, registering its metrics in `registry`.
pub fn worker_for(rt: &shop_runtime::Runtime, registry: &Registry) -> anyhow::Result<Worker> {
    Ok(Worker {
        shop: rt.shop.clone(),
        ops: rt.operations.clone(),
        leases: rt.stores.leases.clone(),
        outbox: rt.stores.outbox.clone(),
        clock: rt.clock.clone(),
        owner: rt.config.worker_id.clone(),
        metrics: WorkerMetrics::register(registry)?,
    })
}
