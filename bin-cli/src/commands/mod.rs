//! The commands, and what they share: the runtime, the acting operator, confirmations.

mod accounts;
mod audit;
mod catalogue;
mod orders;
mod refunds;
mod reports;

use crate::{Cli, CliError, CliResult};
use clap::Subcommand;
use shop_core::audit::Actor;
use shop_core::text::Username;
use shop_core::user::Permission;
use shop_runtime::{Config, Runtime};
use std::io::Write as _;

#[derive(Subcommand)]
pub enum Command {
    /// Create or upgrade the database schema (also done by every start).
    Migrate,
    /// Put the demo catalogue into an empty shop.
    SeedDemo,
    /// Operator accounts.
    Operators {
        #[command(subcommand)]
        cmd: accounts::OperatorCmd,
    },
    /// Products, SKUs, stock and pictures.
    Products {
        #[command(subcommand)]
        cmd: catalogue::ProductCmd,
    },
    /// Order search, cancelling, shipping, CSV export.
    Orders {
        #[command(subcommand)]
        cmd: orders::OrderCmd,
    },
    /// The refund queue and its decisions.
    Refunds {
        #[command(subcommand)]
        cmd: refunds::RefundCmd,
    },
    /// Business figures.
    Reports {
        #[command(subcommand)]
        cmd: reports::ReportCmd,
    },
    /// Reconciliation with WeChat's trade bills.
    Reconcile {
        #[command(subcommand)]
        cmd: reports::ReconcileCmd,
    },
    /// The audit log: list, verify the hash chain, export.
    Audit {
        #[command(subcommand)]
        cmd: audit::AuditCmd,
    },
}

/// What every command gets.
pub struct Ctx {
    pub rt: Runtime,
    pub json: bool,
    pub yes: bool,
    pub as_operator: Option<String>,
}

impl Ctx {
    /// Who acts, if allowed to do `p`: the named operator (enabled, role checked), or the OS
    /// user as a system actor when no operator is named.
    pub async fn actor(&self, p: Permission) -> CliResult<Actor> {
        match &self.as_operator {
            Some(name) => {
                let username = Username::parse(name)?;
                let op = self
                    .rt
                    .stores
                    .operators
                    .by_username(&username)
                    .await
                    .map_err(shop_core::ShopError::from)?
                    .filter(|o| !o.disabled)
                    .ok_or_else(|| CliError::new(3, format!("no enabled operator `{name}`")))?;
                if !op.role.allows(p) {
                    return Err(CliError::new(
                        4,
                        format!("operator `{name}` ({}) may not do this", op.role),
                    ));
                }
                Ok(Actor::Operator {
                    id: op.id,
                    username: op.username.to_string(),
                })
            }
            None => {
                let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
                Ok(Actor::system(&format!("shop-admin:{user}")))
            }
        }
    }

    /// Asks before doing something that moves money or stock, unless `--yes`.
    pub fn confirm(&self, what: &str) -> CliResult<()> {
        if self.yes {
            return Ok(());
        }
        print!("{what}\nType yes to continue: ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() == "yes" {
            Ok(())
        } else {
            Err(CliError::new(10, "aborted"))
        }
    }
}

pub async fn run(cli: Cli) -> CliResult<()> {
    let config = Config::from_env().map_err(|e| CliError::new(2, e.to_string()))?;
    let public = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let rt = Runtime::build(config, &public)
        .await
        .map_err(|e| CliError::new(5, format!("{e:#}")))?;
    let ctx = Ctx {
        rt,
        json: cli.json,
        yes: cli.yes,
        as_operator: cli.as_operator,
    };
    match cli.command {
        Command::Migrate => {
            crate::output::record(
                ctx.json,
                &serde_json::json!({"database": ctx.rt.stores.kind, "schema": "up to date"}),
            );
            Ok(())
        }
        Command::SeedDemo => {
            let n = shop_runtime::seed::seed_demo(&ctx.rt.backoffice).await?;
            crate::output::record(ctx.json, &serde_json::json!({"products_created": n}));
            Ok(())
        }
        Command::Operators { cmd } => accounts::run(&ctx, cmd).await,
        Command::Products { cmd } => catalogue::run(&ctx, cmd).await,
        Command::Orders { cmd } => orders::run(&ctx, cmd).await,
        Command::Refunds { cmd } => refunds::run(&ctx, cmd).await,
        Command::Reports { cmd } => reports::run(&ctx, cmd).await,
        Command::Reconcile { cmd } => reports::reconcile(&ctx, cmd).await,
        Command::Audit { cmd } => audit::run(&ctx, cmd).await,
    }
}

/// `129.00`: yuan for people.
pub fn yuan(fen: i64) -> String {
    shop_core::Fen::new(fen).to_yuan()
}
