//! `shop-api`: serve the shop (default), print the OpenAPI document, or run the WeChat Pay
//! sandbox on its own.

use clap::{Parser, Subcommand};
use shop_api::{Application, Config};

#[derive(Parser)]
#[command(name = "shop-api", version, about = "The Wuchang rice shop's HTTP API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Configured by SHOP_* environment variables.
    Serve,
    /// Print the OpenAPI document (what docs/openapi.json holds).
    Openapi,
    /// Run only the WeChat Pay sandbox (the API hosts one at /sandbox already). Listens on
    /// `--listen` or SHOP_SANDBOX_LISTEN (default 127.0.0.1:8081); point a shop at it with
    /// SHOP_WECHAT_BASE_URL=http://127.0.0.1:8081.
    Sandbox {
        #[arg(long, env = "SHOP_SANDBOX_LISTEN", default_value = "127.0.0.1:8081")]
        listen: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            let mut out = std::io::stdout().lock();
            std::io::Write::write_all(&mut out, shop_api::openapi_json().as_bytes())?;
            std::io::Write::write_all(&mut out, b"\n")?;
            Ok(())
        }
        Command::Sandbox { listen } => {
            shop_api::init_tracing(false);
            let cfg = shop_wechat_pay::SandboxConfig::from_env()?;
            tracing::info!("WeChat Pay sandbox on http://{listen} (/v3/… signed, /control/… open)");
            shop_wechat_pay::sandbox::serve(cfg, &listen).await?;
            Ok(())
        }
        Command::Serve => {
            let config = Config::from_env()?;
            shop_api::init_tracing(config.log_json);
            let app = Application::build(config).await?;
            tracing::info!("listening on http://{} — Swagger UI at /docs", app.addr());
            app.run().await?;
            Ok(())
        }
    }
}
