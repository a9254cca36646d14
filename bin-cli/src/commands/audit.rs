use super::Ctx;
use crate::output::{record, show};
use crate::{CliError, CliResult};
use clap::Subcommand;
use indicatif::ProgressBar;
use serde_json::json;
use shop_core::audit::{verify_chain, AuditRecord, GENESIS_HASH};
use shop_core::ports::{AuditQuery, Page};
use shop_core::user::Permission;
use std::io::Write as _;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Newest entries first, optionally filtered.
    List {
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        target_type: Option<String>,
        #[arg(long)]
        target_id: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Check the whole hash chain: an edited or deleted row is named. Exit code 6 if broken.
    Verify,
    /// Write every entry as JSON lines, oldest first.
    Export {
        #[arg(short = 'o', long)]
        output: std::path::PathBuf,
    },
}

fn entry_json(r: &AuditRecord) -> serde_json::Value {
    json!({"seq": r.seq, "at": r.entry.at.to_cn_datetime(), "actor": r.entry.actor.encode(), "action": r.entry.action,
        "target": format!("{}:{}", r.entry.target_type, r.entry.target_id), "before": r.entry.before, "after": r.entry.after,
        "hash": r.hash})
}

pub async fn run(ctx: &Ctx, cmd: AuditCmd) -> CliResult<()> {
    ctx.actor(Permission::ViewAudit).await?;
    let audit = &ctx.rt.stores.audit;
    match cmd {
        AuditCmd::List {
            action,
            target_type,
            target_id,
            limit,
        } => {
            let q = AuditQuery {
                action,
                target_type,
                target_id,
                from: None,
                to: None,
            };
            let p = audit
                .search(&q, Page::new(1, limit))
                .await
                .map_err(shop_core::ShopError::from)?;
            let v = json!(p.items.iter().map(entry_json).collect::<Vec<_>>());
            let rows = p
                .items
                .iter()
                .map(|r| {
                    vec![
                        r.seq.to_string(),
                        r.entry.at.to_cn_datetime(),
                        r.entry.actor.encode(),
                        r.entry.action.clone(),
                        format!("{}:{}", r.entry.target_type, r.entry.target_id),
                        r.entry.after.to_string(),
                    ]
                })
                .collect();
            show(
                ctx.json,
                &v,
                &["seq", "at", "actor", "action", "target", "after"],
                rows,
            );
        }
        AuditCmd::Verify => {
            let total = audit
                .search(&AuditQuery::default(), Page::new(1, 1))
                .await
                .map_err(shop_core::ShopError::from)?
                .total;
            let bar = if ctx.json {
                ProgressBar::hidden()
            } else {
                ProgressBar::new(u64::try_from(total).unwrap_or(0))
            };
            let (mut seq, mut hash) = (0i64, GENESIS_HASH.to_string());
            loop {
                let page = audit
                    .after(seq, 1000)
                    .await
                    .map_err(shop_core::ShopError::from)?;
                if page.is_empty() {
                    break;
                }
                match verify_chain(seq, &hash, &page) {
                    Ok((s, h)) => {
                        bar.inc(page.len() as u64);
                        seq = s;
                        hash = h;
                    }
                    Err(e) => {
                        bar.abandon();
                        return Err(CliError::new(6, format!("audit chain broken: {e}")));
                    }
                }
            }
            bar.finish_and_clear();
            record(
                ctx.json,
                &json!({"verified_rows": seq, "head_hash": hash, "status": "intact"}),
            );
        }
        AuditCmd::Export { output } => {
            let file = std::fs::File::create(&output)?;
            let mut out = std::io::BufWriter::new(file);
            let mut seq = 0i64;
            loop {
                let page = audit
                    .after(seq, 1000)
                    .await
                    .map_err(shop_core::ShopError::from)?;
                let Some(last) = page.last() else { break };
                seq = last.seq;
                for r in &page {
                    writeln!(out, "{}", entry_json(r))?;
                }
            }
            out.flush()?;
            record(
                ctx.json,
                &json!({"file": output.display().to_string(), "rows": seq}),
            );
        }
    }
    Ok(())
}
