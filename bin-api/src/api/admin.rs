//! Back-office endpoints for operators. Every change to prices, stock, orders and accounts is
//! audited by the use-cases; roles decide who may do what (see `shop_core::user::Role`).

use super::models::*;
use super::shop::{Created, NoContent};
use super::ApiTags;
use crate::auth::OperatorAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use futures::StreamExt as _;
use poem::web::Data;
use poem::Body;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Enum, Multipart, Object, OpenApi};
use shop_core::catalogue::{Product, ProductStatus};
use shop_core::ids::{ImageId, OperatorId, OrderId, ProductId, SkuId};
use shop_core::money::Fen;
use shop_core::order::Shipment;
use shop_core::ports::{OrderQuery, ProductQuery, StockChange};
use shop_core::text::*;
use shop_core::time::{BizDate, Timestamp};
use shop_core::usecases::{NewProduct, NewSku, ProductPatch, SkuPatch};
use shop_core::user::{Operator, Permission, Role};
use shop_core::{ErrorCode, ShopError, ValidationError};

pub struct AdminApi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum RoleOut {
    Admin,
    Operator,
    Finance,
}

impl From<Role> for RoleOut {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => Self::Admin,
            Role::Operator => Self::Operator,
            Role::Finance => Self::Finance,
        }
    }
}

impl From<RoleOut> for Role {
    fn from(r: RoleOut) -> Self {
        match r {
            RoleOut::Admin => Self::Admin,
            RoleOut::Operator => Self::Operator,
            RoleOut::Finance => Self::Finance,
        }
    }
}

#[derive(Debug, Object)]
pub struct OperatorOut {
    pub id: i64,
    pub username: String,
    pub role: RoleOut,
    pub disabled: bool,
}

impl From<&Operator> for OperatorOut {
    fn from(o: &Operator) -> Self {
        OperatorOut {
            id: o.id.get(),
            username: o.username.to_string(),
            role: o.role.into(),
            disabled: o.disabled,
        }
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminLoginIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Object)]
pub struct AdminLoginOut {
    pub token: String,
    pub expires_at: String,
    pub operator: OperatorOut,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewOperatorIn {
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub role: RoleOut,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OperatorPatchIn {
    pub role: Option<RoleOut>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatusOut {
    OnSale,
    OffSale,
}

#[derive(Debug, Object)]
pub struct AdminSkuOut {
    pub id: i64,
    pub spec: String,
    pub price_fen: i64,
    pub enabled: bool,
    pub sort: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Object)]
pub struct AdminProductOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub status: ProductStatusOut,
    pub sort: i64,
    pub images: Vec<ImageOut>,
    pub skus: Vec<AdminSkuOut>,
    pub created_at: String,
    pub updated_at: String,
}

impl AdminProductOut {
    pub fn new(p: &Product, base: &str) -> Self {
        AdminProductOut {
            id: p.id.get(),
            title: p.title.to_string(),
            description: p.description.to_string(),
            status: if p.status == ProductStatus::OnSale {
                ProductStatusOut::OnSale
            } else {
                ProductStatusOut::OffSale
            },
            sort: p.sort,
            images: p
                .images
                .iter()
                .map(|i| ImageOut {
                    id: i.id.get(),
                    url: abs(base, &i.url),
                })
                .collect(),
            skus: p.skus.iter().map(sku_out).collect(),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        }
    }
}

fn sku_out(s: &shop_core::catalogue::Sku) -> AdminSkuOut {
    AdminSkuOut {
        id: s.id.get(),
        spec: s.spec.to_string(),
        price_fen: s.price.get(),
        enabled: s.enabled,
        sort: s.sort,
        on_hand: s.stock.on_hand(),
        reserved: s.stock.reserved(),
        available: s.stock.available(),
    }
}

#[derive(Debug, Object)]
pub struct AdminProductRow {
    pub id: i64,
    pub title: String,
    pub status: ProductStatusOut,
    pub sort: i64,
    pub cover_url: Option<String>,
    pub min_price_fen: Option<i64>,
    pub in_stock: bool,
    pub updated_at: String,
}

#[derive(Debug, Object)]
pub struct AdminProductPage {
    pub items: Vec<AdminProductRow>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewSkuIn {
    pub spec: String,
    pub price_fen: i64,
    /// Units on hand to start with.
    pub stock: i64,
    pub enabled: Option<bool>,
    pub sort: Option<i64>,
}

impl NewSkuIn {
    fn parse(&self, at: &str) -> Result<NewSku, ApiError> {
        Ok(NewSku {
            spec: SkuSpec::parse(&self.spec).map_err(|e| e.at(format!("{at}spec")))?,
            price: Fen::price(self.price_fen).map_err(|e| e.at(format!("{at}price_fen")))?,
            stock: if self.stock < 0 {
                return Err(ValidationError::new(
                    format!("{at}stock"),
                    "negative",
                    "stock must not be negative",
                )
                .into());
            } else {
                self.stock
            },
            enabled: self.enabled.unwrap_or(true),
            sort: self.sort.unwrap_or(0),
        })
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewProductIn {
    pub title: String,
    pub description: String,
    /// Put on sale at once (default false).
    pub on_sale: Option<bool>,
    pub sort: Option<i64>,
    pub skus: Vec<NewSkuIn>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ProductPatchIn {
    pub title: Option<String>,
    pub description: Option<String>,
    pub sort: Option<i64>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SkuPatchIn {
    pub spec: Option<String>,
    pub price_fen: Option<i64>,
    pub enabled: Option<bool>,
    pub sort: Option<i64>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct StockChangeIn {
    /// Set on hand to this count (a stock-take)…
    pub set: Option<i64>,
    /// …or add (negative: remove) this many units.
    pub adjust: Option<i64>,
    /// Why, for the audit log.
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct StockOut {
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Multipart)]
pub struct ImageUpload {
    /// A JPEG, PNG or WebP picture, at most 5 MiB.
    pub file: Upload,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ShipIn {
    pub carrier: String,
    pub tracking_no: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminCancelIn {
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct DailyRow {
    /// China calendar date.
    pub date: String,
    pub orders: i64,
    pub paid_orders: i64,
    pub gmv_fen: i64,
    /// Average order value: GMV per paid order.
    pub aov_fen: i64,
    pub refunds_fen: i64,
    pub refund_count: i64,
}

#[derive(Debug, Object)]
pub struct TopSkuRow {
    pub sku_id: i64,
    pub title: String,
    pub spec: String,
    pub quantity: i64,
    pub revenue_fen: i64,
}

#[derive(Debug, Object)]
pub struct DailyReport {
    pub days: Vec<DailyRow>,
    pub total_orders: i64,
    pub total_paid_orders: i64,
    pub total_gmv_fen: i64,
    pub total_refunds_fen: i64,
    pub top_skus: Vec<TopSkuRow>,
}

#[derive(ApiResponse)]
pub enum CsvResponse {
    /// UTF-8 CSV with a byte-order mark, one row per order line, streamed.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

fn date(field: &str, raw: &str) -> Result<BizDate, ApiError> {
    BizDate::parse(raw).map_err(|e| e.at(field).into())
}

impl AdminApi {
    async fn product_out(state: &AppState, id: ProductId) -> ApiResult<Json<AdminProductOut>> {
        let p = state
            .shop
            .catalogue
            .get_product(id)
            .await
            .map_err(ShopError::from)?;
        let p = p.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such product"))?;
        Ok(Json(AdminProductOut::new(&p, &state.public_base)))
    }

    fn order_query(
        status: Option<OrderStatusOut>,
        from: Option<String>,
        to: Option<String>,
        order_no: Option<String>,
        phone: Option<String>,
        openid: Option<String>,
    ) -> Result<OrderQuery, ApiError> {
        Ok(OrderQuery {
            status: status.map(Into::into),
            from: from
                .as_deref()
                .map(|d| date("from", d))
                .transpose()?
                .map(BizDate::start),
            to: to
                .as_deref()
                .map(|d| date("to", d))
                .transpose()?
                .map(BizDate::end),
            order_no: order_no
                .filter(|s| !s.trim().is_empty())
                .map(|s| text_at("order_no", s.trim(), OrderNo::parse))
                .transpose()?,
            phone: phone
                .filter(|s| !s.trim().is_empty())
                .map(|s| text_at("phone", &s, Phone::parse))
                .transpose()?
                .map(|p| p.to_string()),
            openid: openid
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_string()),
            user_id: None,
        })
    }
}

#[OpenApi(prefix_path = "/api/v1/admin")]
impl AdminApi {
    /// Operator login with username and password.
    #[oai(path = "/auth/login", method = "post", tag = "ApiTags::AdminAuth")]
    async fn login(
        &self,
        state: Data<&AppState>,
        peer: &poem::web::RemoteAddr,
        body: Json<AdminLoginIn>,
    ) -> ApiResult<Json<AdminLoginOut>> {
        let ip = peer
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let now = state.shop.clock.now();
        let limit = state.config.rate_login_per_minute;
        if !state
            .limiter
            .allow(
                &format!("admin-login:{ip}"),
                limit,
                shop_core::time::Span::minutes(1),
                now,
            )
            .await
        {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many login attempts; wait a minute",
            ));
        }
        let li = state
            .accounts
            .operator_login(&body.0.username, &body.0.password)
            .await?;
        Ok(Json(AdminLoginOut {
            token: li.token,
            expires_at: ts(li.expires_at),
            operator: OperatorOut::from(&li.operator),
        }))
    }

    /// The operator behind the token.
    #[oai(path = "/me", method = "get", tag = "ApiTags::AdminAuth")]
    async fn me(&self, auth: OperatorAuth) -> ApiResult<Json<OperatorOut>> {
        Ok(Json(OperatorOut::from(&auth.0)))
    }

    /// Operator accounts (admin only).
    #[oai(path = "/operators", method = "get", tag = "ApiTags::AdminAuth")]
    async fn operators(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
    ) -> ApiResult<Json<Vec<OperatorOut>>> {
        auth.allowed(Permission::ManageOperators)?;
        let list = state
            .accounts
            .operators
            .list()
            .await
            .map_err(ShopError::from)?;
        Ok(Json(list.iter().map(OperatorOut::from).collect()))
    }

    /// Creates an operator account (admin only, audited).
    #[oai(path = "/operators", method = "post", tag = "ApiTags::AdminAuth")]
    async fn create_operator(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        body: Json<NewOperatorIn>,
    ) -> ApiResult<Created<OperatorOut>> {
        let by = auth.allowed(Permission::ManageOperators)?;
        let username = text_at("username", &body.0.username, Username::parse)?;
        let op = state
            .accounts
            .create_operator(&by, &username, &body.0.password, body.0.role.into())
            .await?;
        Ok(Created::Created(Json(OperatorOut::from(&op))))
    }

    /// Changes an operator's role, disables them or resets their password (admin only, audited).
    #[oai(path = "/operators/:id", method = "patch", tag = "ApiTags::AdminAuth")]
    async fn update_operator(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        body: Json<OperatorPatchIn>,
    ) -> ApiResult<Json<OperatorOut>> {
        let by = auth.allowed(Permission::ManageOperators)?;
        let id: OperatorId = id_at("id", id.0)?;
        if let Some(role) = body.0.role {
            state.accounts.set_role(&by, id, role.into()).await?;
        }
        if let Some(d) = body.0.disabled {
            state.accounts.set_disabled(&by, id, d).await?;
        }
        if let Some(p) = &body.0.password {
            state.accounts.reset_password(&by, id, p).await?;
        }
        let op = state
            .accounts
            .operators
            .get(id)
            .await
            .map_err(ShopError::from)?;
        let op = op.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such operator"))?;
        Ok(Json(OperatorOut::from(&op)))
    }

    /// All products except deleted ones, filtered by status and title.
    #[oai(path = "/products", method = "get", tag = "ApiTags::AdminCatalogue")]
    async fn products(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        status: Query<Option<ProductStatusOut>>,
        q: Query<Option<String>>,
        page: Query<Option<u32>>,
        per_page: Query<Option<u32>>,
    ) -> ApiResult<Json<AdminProductPage>> {
        auth.allowed(Permission::ViewOrders)?;
        let query = ProductQuery {
            status: status.0.map(|s| {
                if s == ProductStatusOut::OnSale {
                    ProductStatus::OnSale
                } else {
                    ProductStatus::OffSale
                }
            }),
            text: q.0,
        };
        let p = state
            .shop
            .catalogue
            .list_all(&query, super::shop::page(page.0, per_page.0))
            .await
            .map_err(ShopError::from)?;
        Ok(Json(AdminProductPage {
            items: p
                .items
                .iter()
                .map(|s| AdminProductRow {
                    id: s.id.get(),
                    title: s.title.to_string(),
                    status: if s.status == ProductStatus::OnSale {
                        ProductStatusOut::OnSale
                    } else {
                        ProductStatusOut::OffSale
                    },
                    sort: s.sort,
                    cover_url: s.cover_url.as_deref().map(|u| abs(&state.public_base, u)),
                    min_price_fen: s.min_price.map(Fen::get),
                    in_stock: s.in_stock,
                    updated_at: ts(s.updated_at),
                })
                .collect(),
            total: p.total,
            page: p.page.page,
            per_page: p.page.per_page,
        }))
    }

    /// Creates a product with its SKUs (audited).
    #[oai(path = "/products", method = "post", tag = "ApiTags::AdminCatalogue")]
    async fn create_product(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        body: Json<NewProductIn>,
    ) -> ApiResult<Created<AdminProductOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let b = body.0;
        let skus = b
            .skus
            .iter()
            .enumerate()
            .map(|(i, s)| s.parse(&format!("skus[{i}].")))
            .collect::<Result<Vec<_>, _>>()?;
        let new = NewProduct {
            title: text_at("title", &b.title, Title::parse)?,
            description: text_at("description", &b.description, Description::parse)?,
            on_sale: b.on_sale.unwrap_or(false),
            sort: b.sort.unwrap_or(0),
            skus,
        };
        let p = state.backoffice.create_product(&by, new).await?;
        Ok(Created::Created(Json(AdminProductOut::new(
            &p,
            &state.public_base,
        ))))
    }

    /// A product with stock levels of every SKU.
    #[oai(
        path = "/products/:id",
        method = "get",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn product(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<AdminProductOut>> {
        auth.allowed(Permission::ViewOrders)?;
        Self::product_out(&state, id_at("id", id.0)?).await
    }

    /// Changes title, description or shelf order (audited).
    #[oai(
        path = "/products/:id",
        method = "patch",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn update_product(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        body: Json<ProductPatchIn>,
    ) -> ApiResult<Json<AdminProductOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let b = body.0;
        let patch = ProductPatch {
            title: b
                .title
                .as_deref()
                .map(|t| text_at("title", t, Title::parse))
                .transpose()?,
            description: b
                .description
                .as_deref()
                .map(|t| text_at("description", t, Description::parse))
                .transpose()?,
            sort: b.sort,
        };
        let p = state
            .backoffice
            .update_product(&by, id_at("id", id.0)?, patch)
            .await?;
        Ok(Json(AdminProductOut::new(&p, &state.public_base)))
    }

    /// Deletes a product from the shelf and the back office (kept for the orders that name it).
    #[oai(
        path = "/products/:id",
        method = "delete",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn delete_product(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<NoContent> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        state
            .backoffice
            .set_product_status(&by, id_at("id", id.0)?, ProductStatus::Deleted)
            .await?;
        Ok(NoContent::NoContent)
    }

    /// Puts a product on sale.
    #[oai(
        path = "/products/:id/on-sale",
        method = "post",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn on_sale(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<AdminProductOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let p = state
            .backoffice
            .set_product_status(&by, id_at("id", id.0)?, ProductStatus::OnSale)
            .await?;
        Ok(Json(AdminProductOut::new(&p, &state.public_base)))
    }

    /// Takes a product off sale.
    #[oai(
        path = "/products/:id/off-sale",
        method = "post",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn off_sale(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<AdminProductOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let p = state
            .backoffice
            .set_product_status(&by, id_at("id", id.0)?, ProductStatus::OffSale)
            .await?;
        Ok(Json(AdminProductOut::new(&p, &state.public_base)))
    }

    /// Adds a SKU to a product (audited).
    #[oai(
        path = "/products/:id/skus",
        method = "post",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn add_sku(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        body: Json<NewSkuIn>,
    ) -> ApiResult<Created<AdminSkuOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let sku = state
            .backoffice
            .add_sku(&by, id_at("id", id.0)?, body.0.parse("")?)
            .await?;
        Ok(Created::Created(Json(sku_out(&sku))))
    }

    /// Changes a SKU's spec, price, enabled flag or order; price changes are audited as such.
    #[oai(
        path = "/products/:id/skus/:sku_id",
        method = "patch",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn update_sku(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        sku_id: Path<i64>,
        body: Json<SkuPatchIn>,
    ) -> ApiResult<Json<AdminSkuOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let b = body.0;
        let patch = SkuPatch {
            spec: b
                .spec
                .as_deref()
                .map(|t| text_at("spec", t, SkuSpec::parse))
                .transpose()?,
            price: b
                .price_fen
                .map(|p| Fen::price(p).map_err(|e| e.at("price_fen")))
                .transpose()?,
            enabled: b.enabled,
            sort: b.sort,
        };
        let sku = state
            .backoffice
            .update_sku(&by, id_at("id", id.0)?, id_at("sku_id", sku_id.0)?, patch)
            .await?;
        Ok(Json(sku_out(&sku)))
    }

    /// Sets or adjusts a SKU's stock, with a reason (audited with the levels before and after).
    #[oai(
        path = "/skus/:sku_id/stock",
        method = "post",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn change_stock(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        sku_id: Path<i64>,
        body: Json<StockChangeIn>,
    ) -> ApiResult<Json<StockOut>> {
        let by = auth.allowed(Permission::ManageCatalogue)?;
        let b = body.0;
        let change = match (b.set, b.adjust) {
            (Some(n), None) => StockChange::Set(n),
            (None, Some(d)) => StockChange::Adjust(d),
            _ => {
                return Err(
                    ValidationError::new("set", "exactly_one", "send either set or adjust").into(),
                )
            }
        };
        let reason = text_at("reason", &b.reason, Reason::parse)?;
        let sku: SkuId = id_at("sku_id", sku_id.0)?;
        let s = state
            .backoffice
            .change_stock(&by, sku, change, &reason)
            .await?;
        Ok(Json(StockOut {
            on_hand: s.on_hand(),
            reserved: s.reserved(),
            available: s.available(),
        }))
    }

    /// Uploads a product picture (multipart field `file`).
    #[oai(
        path = "/products/:id/images",
        method = "post",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn upload_image(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        upload: ImageUpload,
    ) -> ApiResult<Created<ImageOut>> {
        auth.allowed(Permission::ManageCatalogue)?;
        let id: ProductId = id_at("id", id.0)?;
        let name = upload.file.file_name().unwrap_or("image").to_string();
        let content_type = upload
            .file
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = upload.file.into_vec().await.map_err(|e| {
            ApiError::with_field(ErrorCode::BadRequest, Some("file".into()), e.to_string())
        })?;
        let img = state
            .backoffice
            .add_image(id, &name, &content_type, bytes)
            .await?;
        Ok(Created::Created(Json(ImageOut {
            id: img.id.get(),
            url: abs(&state.public_base, &img.url),
        })))
    }

    /// Removes a product picture.
    #[oai(
        path = "/products/:id/images/:image_id",
        method = "delete",
        tag = "ApiTags::AdminCatalogue"
    )]
    async fn remove_image(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        image_id: Path<i64>,
    ) -> ApiResult<NoContent> {
        auth.allowed(Permission::ManageCatalogue)?;
        let image: ImageId = id_at("image_id", image_id.0)?;
        state
            .backoffice
            .remove_image(id_at("id", id.0)?, image)
            .await?;
        Ok(NoContent::NoContent)
    }

    /// Searches orders by status, date range (China dates, inclusive), order number, receiver
    /// phone or buyer openid; newest first.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/orders", method = "get", tag = "ApiTags::AdminOrders")]
    async fn orders(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        status: Query<Option<OrderStatusOut>>,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
        order_no: Query<Option<String>>,
        phone: Query<Option<String>>,
        openid: Query<Option<String>>,
        page: Query<Option<u32>>,
        per_page: Query<Option<u32>>,
    ) -> ApiResult<Json<OrderPage>> {
        auth.allowed(Permission::ViewOrders)?;
        let query = Self::order_query(status.0, from.0, to.0, order_no.0, phone.0, openid.0)?;
        let p = state
            .shop
            .orders
            .search(&query, super::shop::page(page.0, per_page.0))
            .await
            .map_err(ShopError::from)?;
        Ok(Json(OrderPage::from_paged(&p, true, &state.public_base)))
    }

    /// Streams the orders of a date range as CSV (one row per order line). Memory stays flat
    /// however many orders there are.
    #[oai(
        path = "/orders/export.csv",
        method = "get",
        tag = "ApiTags::AdminOrders"
    )]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        from: Query<String>,
        to: Query<String>,
        status: Query<Option<OrderStatusOut>>,
    ) -> ApiResult<CsvResponse> {
        auth.allowed(Permission::ViewOrders)?;
        let query = Self::order_query(
            status.0,
            Some(from.0.clone()),
            Some(to.0.clone()),
            None,
            None,
            None,
        )?;
        let orders = state.shop.orders.clone();
        let pages = futures::stream::unfold(
            (Some(None::<(Timestamp, OrderId)>), false),
            move |(cursor, header_sent)| {
                let orders = orders.clone();
                let query = query.clone();
                async move {
                    if !header_sent {
                        return Some((Ok(shop_core::export::header()), (cursor, true)));
                    }
                    let after = cursor?;
                    match orders.scan(&query, after, 500).await {
                        Ok(page) if page.is_empty() => None,
                        Ok(page) => {
                            let next = page.last().map(|o| (o.created_at, o.id));
                            Some((Ok(shop_core::export::orders_csv(&page)), (Some(next), true)))
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "order export stopped");
                            Some((Err(std::io::Error::other(e.to_string())), (None, true)))
                        }
                    }
                }
            },
        );
        let body = Body::from_bytes_stream(pages.map(|r| r.map(bytes::Bytes::from)));
        let name = format!("attachment; filename=\"orders-{}-{}.csv\"", from.0, to.0);
        Ok(CsvResponse::Csv(Binary(body), name))
    }

    /// One order with the buyer.
    #[oai(path = "/orders/:id", method = "get", tag = "ApiTags::AdminOrders")]
    async fn order(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<OrderOut>> {
        auth.allowed(Permission::ViewOrders)?;
        let id: OrderId = id_at("id", id.0)?;
        let o = state.shop.orders.get(id).await.map_err(ShopError::from)?;
        let o = o.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such order"))?;
        Ok(Json(OrderOut::from_order(&o, true, &state.public_base)))
    }

    /// Cancels an unpaid order with a reason (audited); closes its WeChat payment first.
    #[oai(
        path = "/orders/:id/cancel",
        method = "post",
        tag = "ApiTags::AdminOrders"
    )]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        body: Json<AdminCancelIn>,
    ) -> ApiResult<Json<OrderOut>> {
        let by = auth.allowed(Permission::ManageOrders)?;
        let reason = text_at("reason", &body.0.reason, Reason::parse)?;
        let o = state
            .shop
            .cancel_order(&by, id_at("id", id.0)?, Some(reason))
            .await?;
        Ok(Json(OrderOut::from_order(&o, true, &state.public_base)))
    }

    /// Ships a paid order with carrier and tracking number (audited).
    #[oai(
        path = "/orders/:id/ship",
        method = "post",
        tag = "ApiTags::AdminOrders"
    )]
    async fn ship(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        body: Json<ShipIn>,
    ) -> ApiResult<Json<OrderOut>> {
        let by = auth.allowed(Permission::ManageOrders)?;
        let shipment = Shipment {
            carrier: text_at("carrier", &body.0.carrier, Carrier::parse)?,
            tracking_no: text_at("tracking_no", &body.0.tracking_no, TrackingNo::parse)?,
        };
        let o = state
            .backoffice
            .ship(&by, id_at("id", id.0)?, shipment)
            .await?;
        Ok(Json(OrderOut::from_order(&o, true, &state.public_base)))
    }

    /// Orders, paid orders, GMV, average order value and refunds per China calendar day, with
    /// the best-selling SKUs of the range.
    #[oai(path = "/reports/daily", method = "get", tag = "ApiTags::AdminReports")]
    async fn daily(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        from: Query<String>,
        to: Query<String>,
    ) -> ApiResult<Json<DailyReport>> {
        auth.allowed(Permission::ViewReports)?;
        let (from, to) = (date("from", &from.0)?, date("to", &to.0)?);
        let days = state.backoffice.daily_report(from, to).await?;
        let top = state.backoffice.top_skus(from, to, 10).await?;
        Ok(Json(DailyReport {
            total_orders: days.iter().map(|d| d.orders).sum(),
            total_paid_orders: days.iter().map(|d| d.paid_orders).sum(),
            total_gmv_fen: days.iter().map(|d| d.gmv.get()).sum(),
            total_refunds_fen: days.iter().map(|d| d.refunds.get()).sum(),
            days: days
                .iter()
                .map(|d| DailyRow {
                    date: d.date.to_string(),
                    orders: d.orders,
                    paid_orders: d.paid_orders,
                    gmv_fen: d.gmv.get(),
                    aov_fen: d.aov().get(),
                    refunds_fen: d.refunds.get(),
                    refund_count: d.refund_count,
                })
                .collect(),
            top_skus: top
                .into_iter()
                .map(|t| TopSkuRow {
                    sku_id: t.sku_id.get(),
                    title: t.title,
                    spec: t.spec,
                    quantity: t.quantity,
                    revenue_fen: t.revenue.get(),
                })
                .collect(),
        }))
    }
}
