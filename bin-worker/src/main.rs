//! `shop-worker run` — every job on its interval (a daemon; replicas take turns);
//! `shop-worker once <job> [--date YYYY-MM-DD]` — one job now, for cron: exit code 0 only when
//! the job succeeded, 3 when another worker holds it, 1 when it failed.

// A command-line tool prints its results.
#![allow(clippy::print_stdout)]

use clap::{Parser, Subcommand};
use shop_core::time::BizDate;
use shop_runtime::{Config, Runtime};
use shop_worker::{worker_for, Job, Outcome};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "shop-worker",
    version,
    about = "The rice shop's background jobs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every job on its interval until SIGTERM.
    Run,
    /// Run one job now and exit: expire-unpaid, payment-sweep, refund-sweep, auto-confirm,
    /// reconcile, outbox-relay, gate-check, purge.
    Once {
        job: String,
        /// The day to reconcile (China date); default yesterday.
        #[arg(long)]
        date: Option<String>,
    },
    /// List the jobs and when each last ran.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    match real_main().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shop-worker: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn real_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    shop_runtime::init_tracing(config.log_json);
    let public = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let registry = prometheus::Registry::new();
    let rt = Runtime::build(config.clone(), &public).await?;
    let worker = Arc::new(worker_for(&rt, &registry)?);
    match cli.command {
        Command::Once { job, date } => {
            let Some(job) = Job::parse(&job) else {
                eprintln!(
                    "unknown job `{job}`; one of: {}",
                    Job::ALL.map(Job::name).join(", ")
                );
                return Ok(ExitCode::from(2));
            };
            let date = date.map(|d| BizDate::parse(&d)).transpose()?;
            match worker.tick(job, date).await {
                Ok(Outcome::Done(note)) => {
                    println!("{}: {note}", job.name());
                    Ok(ExitCode::SUCCESS)
                }
                Ok(Outcome::Skipped) => {
                    eprintln!(
                        "{}: another worker holds the job's lease; try again shortly",
                        job.name()
                    );
                    Ok(ExitCode::from(3))
                }
                Err(e) => {
                    eprintln!("{}: failed: {e}", job.name());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Status => {
            for s in rt.stores.leases.status().await? {
                println!(
                    "{:<14} last ok: {:<5} finished: {:<24} {}",
                    s.job,
                    s.last_ok.map_or("-".into(), |b| b.to_string()),
                    s.last_finished_at
                        .map_or("-".into(), |t| t.to_cn_datetime()),
                    s.last_note.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => {
            tracing::info!(worker = %worker.owner, events = %rt.event_sink, "worker running every job");
            let (tx, rx) = tokio::sync::watch::channel(false);
            let metrics_addr = rt.config.worker_metrics_listen;
            let reg = registry.clone();
            let metrics = poem::Route::new().at(
                "/metrics",
                poem::endpoint::make_sync(move |_| {
                    let mut buf = Vec::new();
                    let _ = prometheus::Encoder::encode(
                        &prometheus::TextEncoder::new(),
                        &reg.gather(),
                        &mut buf,
                    );
                    String::from_utf8(buf).unwrap_or_default()
                }),
            );
            tokio::spawn(async move {
                if let Err(e) = poem::Server::new(poem::listener::TcpListener::bind(metrics_addr))
                    .run(metrics)
                    .await
                {
                    tracing::warn!(error = %e, "worker metrics endpoint stopped");
                }
            });
            let run = tokio::spawn(worker.clone().run(Job::ALL.to_vec(), rx));
            shutdown().await;
            let _ = tx.send(true);
            let _ = run.await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping after the runs in progress");
}
