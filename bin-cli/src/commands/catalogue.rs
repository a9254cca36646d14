use super::{yuan, Ctx};
use crate::output::{record, show};
use crate::{CliError, CliResult};
use clap::Subcommand;
use serde_json::json;
use shop_core::catalogue::{Product, ProductStatus};
use shop_core::ids::{ProductId, SkuId};
use shop_core::money::Fen;
use shop_core::ports::{Page, ProductQuery, StockChange};
use shop_core::text::{Description, Reason, SkuSpec, Title};
use shop_core::usecases::{NewProduct, NewSku, ProductPatch};
use shop_core::user::Permission;

#[derive(Subcommand)]
pub enum ProductCmd {
    /// Products (not deleted), optionally by status and title.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        q: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// A product with its SKUs and stock.
    Show {
        id: i64,
    },
    /// Create a product; each --sku is `spec:price_yuan:stock`, e.g. `5kg 真空装:129.00:200`.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long = "sku", required = true)]
        skus: Vec<String>,
        #[arg(long)]
        on_sale: bool,
        #[arg(long, default_value_t = 0)]
        sort: i64,
    },
    /// Change title, description or shelf order.
    Update {
        id: i64,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        sort: Option<i64>,
    },
    OnSale {
        id: i64,
    },
    OffSale {
        id: i64,
    },
    /// Set (`--set N`) or adjust (`--adjust ±N`) a SKU's stock, with a reason (audited).
    SetStock {
        sku_id: i64,
        #[arg(long, allow_hyphen_values = true)]
        set: Option<i64>,
        #[arg(long, allow_hyphen_values = true)]
        adjust: Option<i64>,
        #[arg(long)]
        reason: String,
    },
    /// Add a picture (JPEG, PNG or WebP) to a product.
    AddImage {
        id: i64,
        file: std::path::PathBuf,
    },
}

fn product_json(p: &Product) -> serde_json::Value {
    json!({
        "id": p.id.get(), "title": p.title.as_str(), "status": p.status.as_str(), "sort": p.sort,
        "images": p.images.iter().map(|i| i.url.clone()).collect::<Vec<_>>(),
        "skus": p.skus.iter().map(|s| json!({"id": s.id.get(), "spec": s.spec.as_str(), "price_fen": s.price.get(),
            "enabled": s.enabled, "on_hand": s.stock.on_hand(), "reserved": s.stock.reserved(), "available": s.stock.available()})).collect::<Vec<_>>(),
    })
}

fn print_product(ctx: &Ctx, p: &Product) {
    if ctx.json {
        record(true, &product_json(p));
        return;
    }
    println!(
        "{} · {} · {} · {} picture(s)",
        p.id,
        p.title,
        p.status.as_str(),
        p.images.len()
    );
    let rows = p
        .skus
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.spec.to_string(),
                yuan(s.price.get()),
                if s.enabled { "yes".into() } else { "no".into() },
                s.stock.on_hand().to_string(),
                s.stock.reserved().to_string(),
                s.stock.available().to_string(),
            ]
        })
        .collect();
    show(
        false,
        &json!(null),
        &[
            "sku",
            "spec",
            "price (yuan)",
            "enabled",
            "on hand",
            "reserved",
            "available",
        ],
        rows,
    );
}

fn parse_sku(raw: &str, i: usize) -> CliResult<NewSku> {
    let parts: Vec<&str> = raw.rsplitn(3, ':').collect();
    let [stock, price, spec] = parts.as_slice() else {
        return Err(CliError::new(
            4,
            format!("--sku #{} `{raw}` is not spec:price_yuan:stock", i + 1),
        ));
    };
    Ok(NewSku {
        spec: SkuSpec::parse(spec)?,
        price: Fen::price(Fen::parse_yuan(price)?.get())?,
        stock: stock
            .trim()
            .parse()
            .map_err(|_| CliError::new(4, format!("stock `{stock}` is not a number")))?,
        enabled: true,
        sort: i as i64,
    })
}

async fn product(ctx: &Ctx, id: i64) -> CliResult<Product> {
    let id = ProductId::new(id)?;
    ctx.rt
        .stores
        .catalogue
        .get_product(id)
        .await
        .map_err(shop_core::ShopError::from)?
        .ok_or_else(|| CliError::new(3, format!("no product {id}")))
}

pub async fn run(ctx: &Ctx, cmd: ProductCmd) -> CliResult<()> {
    let bo = &ctx.rt.backoffice;
    match cmd {
        ProductCmd::List { status, q, page } => {
            ctx.actor(Permission::ViewOrders).await?;
            let status = status
                .map(|s| ProductStatus::parse(&s.to_uppercase()))
                .transpose()?;
            let p = ctx
                .rt
                .stores
                .catalogue
                .list_all(&ProductQuery { status, text: q }, Page::new(page, 50))
                .await
                .map_err(shop_core::ShopError::from)?;
            let v = json!({"total": p.total, "items": p.items.iter().map(|s| json!({"id": s.id.get(), "title": s.title.as_str(),
                "status": s.status.as_str(), "min_price_fen": s.min_price.map(Fen::get), "in_stock": s.in_stock})).collect::<Vec<_>>()});
            let rows = p
                .items
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.title.to_string(),
                        s.status.as_str().into(),
                        s.min_price.map(|f| yuan(f.get())).unwrap_or_default(),
                        if s.in_stock {
                            "yes".into()
                        } else {
                            "sold out".into()
                        },
                    ]
                })
                .collect();
            show(
                ctx.json,
                &v,
                &["id", "title", "status", "from (yuan)", "stock"],
                rows,
            );
            if !ctx.json {
                println!("{} product(s), page {page}", p.total);
            }
        }
        ProductCmd::Show { id } => {
            ctx.actor(Permission::ViewOrders).await?;
            print_product(ctx, &product(ctx, id).await?);
        }
        ProductCmd::Create {
            title,
            description,
            skus,
            on_sale,
            sort,
        } => {
            let by = ctx.actor(Permission::ManageCatalogue).await?;
            let skus = skus
                .iter()
                .enumerate()
                .map(|(i, s)| parse_sku(s, i))
                .collect::<CliResult<Vec<_>>>()?;
            let p = bo
                .create_product(
                    &by,
                    NewProduct {
                        title: Title::parse(&title)?,
                        description: Description::parse(&description)?,
                        on_sale,
                        sort,
                        skus,
                    },
                )
                .await?;
            print_product(ctx, &p);
        }
        ProductCmd::Update {
            id,
            title,
            description,
            sort,
        } => {
            let by = ctx.actor(Permission::ManageCatalogue).await?;
            let patch = ProductPatch {
                title: title.as_deref().map(Title::parse).transpose()?,
                description: description.as_deref().map(Description::parse).transpose()?,
                sort,
            };
            let p = bo.update_product(&by, ProductId::new(id)?, patch).await?;
            print_product(ctx, &product(ctx, p.id.get()).await?);
        }
        ProductCmd::OnSale { id } => {
            let by = ctx.actor(Permission::ManageCatalogue).await?;
            bo.set_product_status(&by, ProductId::new(id)?, ProductStatus::OnSale)
                .await?;
            print_product(ctx, &product(ctx, id).await?);
        }
        ProductCmd::OffSale { id } => {
            let by = ctx.actor(Permission::ManageCatalogue).await?;
            bo.set_product_status(&by, ProductId::new(id)?, ProductStatus::OffSale)
                .await?;
            print_product(ctx, &product(ctx, id).await?);
        }
        ProductCmd::SetStock {
            sku_id,
            set,
            adjust,
            reason,
        } => {
            let by = ctx.actor(Permission::ManageCatalogue).await?;
            let change = match (set, adjust) {
                (Some(n), None) => StockChange::Set(n),
                (None, Some(d)) => StockChange::Adjust(d),
                _ => return Err(CliError::new(4, "give either --set N or --adjust ±N")),
            };
            let s = bo
                .change_stock(&by, SkuId::new(sku_id)?, change, &Reason::parse(&reason)?)
                .await?;
            record(
                ctx.json,
                &json!({"sku_id": sku_id, "on_hand": s.on_hand(), "reserved": s.reserved(), "available": s.available()}),
            );
        }
        ProductCmd::AddImage { id, file } => {
            ctx.actor(Permission::ManageCatalogue).await?;
            let bytes = tokio::fs::read(&file).await?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "image".into());
            let content_type = match file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("png") => "image/png",
                Some("jpg" | "jpeg") => "image/jpeg",
                Some("webp") => "image/webp",
                _ => "application/octet-stream",
            };
            let img = bo
                .add_image(ProductId::new(id)?, &name, content_type, bytes)
                .await?;
            record(ctx.json, &json!({"image_id": img.id.get(), "url": img.url}));
        }
    }
    Ok(())
}
