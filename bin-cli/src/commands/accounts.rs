use super::Ctx;
use crate::output::{record, show};
use crate::{CliError, CliResult};
use clap::Subcommand;
use serde_json::json;
use shop_core::text::Username;
use shop_core::user::{Permission, Role};

#[derive(Subcommand)]
pub enum OperatorCmd {
    /// Create an account. The password comes from --password or SHOP_NEW_PASSWORD.
    Create {
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long, env = "SHOP_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    List,
    /// Change an account's role (audited).
    SetRole {
        username: String,
        role: String,
    },
    /// Set a new password (audited).
    ResetPassword {
        username: String,
        #[arg(long, env = "SHOP_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Disable an account; its sessions stop working at once.
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
}

async fn find(ctx: &Ctx, name: &str) -> CliResult<shop_core::user::Operator> {
    let u = Username::parse(name)?;
    ctx.rt
        .stores
        .operators
        .by_username(&u)
        .await
        .map_err(shop_core::ShopError::from)?
        .ok_or_else(|| CliError::new(3, format!("no operator `{name}`")))
}

pub async fn run(ctx: &Ctx, cmd: OperatorCmd) -> CliResult<()> {
    let accounts = &ctx.rt.accounts;
    match cmd {
        OperatorCmd::Create {
            username,
            role,
            password,
        } => {
            let by = ctx.actor(Permission::ManageOperators).await?;
            let op = accounts
                .create_operator(
                    &by,
                    &Username::parse(&username)?,
                    &password,
                    Role::parse(&role)?,
                )
                .await?;
            record(
                ctx.json,
                &json!({"id": op.id.get(), "username": op.username.as_str(), "role": op.role.as_str()}),
            );
        }
        OperatorCmd::List => {
            ctx.actor(Permission::ManageOperators).await?;
            let list = ctx
                .rt
                .stores
                .operators
                .list()
                .await
                .map_err(shop_core::ShopError::from)?;
            let v = json!(list.iter().map(|o| json!({"id": o.id.get(), "username": o.username.as_str(), "role": o.role.as_str(), "disabled": o.disabled})).collect::<Vec<_>>());
            let rows = list
                .iter()
                .map(|o| {
                    vec![
                        o.id.to_string(),
                        o.username.to_string(),
                        o.role.to_string(),
                        if o.disabled {
                            "disabled".into()
                        } else {
                            "active".into()
                        },
                    ]
                })
                .collect();
            show(ctx.json, &v, &["id", "username", "role", "state"], rows);
        }
        OperatorCmd::SetRole { username, role } => {
            let by = ctx.actor(Permission::ManageOperators).await?;
            let op = find(ctx, &username).await?;
            let op = accounts.set_role(&by, op.id, Role::parse(&role)?).await?;
            record(
                ctx.json,
                &json!({"username": op.username.as_str(), "role": op.role.as_str()}),
            );
        }
        OperatorCmd::ResetPassword { username, password } => {
            let by = ctx.actor(Permission::ManageOperators).await?;
            let op = find(ctx, &username).await?;
            accounts.reset_password(&by, op.id, &password).await?;
            record(
                ctx.json,
                &json!({"username": username, "password": "changed"}),
            );
        }
        OperatorCmd::Disable { username } => set_disabled(ctx, &username, true).await?,
        OperatorCmd::Enable { username } => set_disabled(ctx, &username, false).await?,
    }
    Ok(())
}

async fn set_disabled(ctx: &Ctx, username: &str, disabled: bool) -> CliResult<()> {
    let by = ctx.actor(Permission::ManageOperators).await?;
    let op = find(ctx, username).await?;
    ctx.rt.accounts.set_disabled(&by, op.id, disabled).await?;
    record(
        ctx.json,
        &json!({"username": username, "disabled": disabled}),
    );
    Ok(())
}
