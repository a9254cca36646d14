//! `shop-admin`: the operators' command line. Works on the same database as the API
//! (`SHOP_DATABASE_URL`, `SHOP_REDIS_URL` …) through the same use-cases, so every change is
//! audited the same way. Tables by default, `--json` for scripts; `--yes` skips the
//! confirmation of refunds and cancels; `--as <operator>` names who acts (their role is checked).
//!
//! Exit codes: 0 done · 1 failed · 2 usage · 3 not found · 4 refused (validation, state,
//! conflict, role) · 5 a dependency is unavailable · 6 the audit chain is broken · 10 aborted
//! at the confirmation prompt.

// A command-line tool prints its results.
#![allow(clippy::print_stdout)]

mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "shop-admin",
    version,
    about = "Back-office commands for the Wuchang rice shop"
)]
pub struct Cli {
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Do not ask for confirmation (refunds, cancels).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// The operator account acting (audited, role checked). Default: the OS user, as a system actor.
    #[arg(long = "as", global = true, env = "SHOP_OPERATOR")]
    pub as_operator: Option<String>,
    #[command(subcommand)]
    pub command: commands::Command,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shop-admin: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// A failure with the exit code that says what kind it was.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
}

impl From<shop_core::ShopError> for CliError {
    fn from(e: shop_core::ShopError) -> Self {
        use shop_core::ErrorCode as C;
        let code = match e.code() {
            C::NotFound => 3,
            C::Unavailable | C::PaymentProviderError => 5,
            C::Internal => 1,
            _ => 4,
        };
        CliError::new(code, e.to_string())
    }
}

impl From<shop_core::ValidationError> for CliError {
    fn from(e: shop_core::ValidationError) -> Self {
        CliError::new(4, e.to_string())
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::new(1, format!("{e:#}"))
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::new(1, e.to_string())
    }
}

pub type CliResult<T> = Result<T, CliError>;
