//! The WeChat Pay sandbox on its own, for working on the mini-program or the worker without the
//! API: `SHOP_SANDBOX_LISTEN` (default 127.0.0.1:8081), keys and time scale from the
//! `SHOP_SANDBOX_*` / `SHOP_WECHAT_*` variables (default: the test keys). Point a shop at it with
//! `SHOP_WECHAT_BASE_URL=http://127.0.0.1:8081`.

use shop_wechat_pay::sandbox;
use shop_wechat_pay::SandboxConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg = SandboxConfig::from_env()?;
    let listen = std::env::var("SHOP_SANDBOX_LISTEN")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:8081".into());
    eprintln!(
        "WeChat Pay sandbox on http://{listen} (/v3/… signed, /control/… open); Ctrl-C stops"
    );
    sandbox::serve(cfg, &listen).await?;
    Ok(())
}
