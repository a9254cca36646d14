//! Request and response bodies. Requests parse into core types at the edge and name the field
//! that failed; responses are built from core types. Money is integer fen, times are RFC 3339.

use crate::error::ApiError;
use poem_openapi::types::Example;
use poem_openapi::{Enum, Object};
use shop_core::address::{Address, AddressFields};
use shop_core::catalogue::{Product, ProductSummary};
use shop_core::order::{Order, OrderStatus, Quantity};
use shop_core::ports::Paged;
use shop_core::text::*;
use shop_core::time::Timestamp;
use shop_core::usecases::{CartView, OrderItem};
use shop_core::{ErrorCode, ValidationError};

/// Media paths are stored relative (`/media/x.png`) so a change of domain needs no migration;
/// clients get absolute URLs, which `<image>` in a mini-program requires.
pub fn abs(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{base}{url}")
    }
}

pub fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

pub fn id_at<T: TryFrom<i64, Error = ValidationError>>(field: &str, v: i64) -> Result<T, ApiError> {
    T::try_from(v).map_err(|e| e.at(field).into())
}

pub fn text_at<T>(
    field: &str,
    raw: &str,
    parse: fn(&str) -> Result<T, ValidationError>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|e| e.at(field).into())
}

/// The `Idempotency-Key` header of a request that must not run twice (8–64 characters).
pub fn idempotency_key(raw: Option<String>) -> Result<IdempotencyKey, ApiError> {
    let Some(raw) = raw else {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyRequired,
            "send an Idempotency-Key header (8-64 characters)",
        ));
    };
    IdempotencyKey::parse(&raw).map_err(|e| {
        ApiError::with_field(
            ErrorCode::IdempotencyKeyRequired,
            Some("Idempotency-Key".into()),
            e.message,
        )
    })
}

// ---------- auth ----------

#[derive(Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct WechatLoginIn {
    /// The code from `wx.login()`; valid once, for five minutes.
    pub code: String,
}

impl Example for WechatLoginIn {
    fn example() -> Self {
        WechatLoginIn {
            code: "0a3Xk2000Ld7bS1dGr100gDL6k1Xk20b".into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct UserOut {
    pub id: i64,
    pub nickname: Option<String>,
}

#[derive(Debug, Object)]
pub struct WechatLoginOut {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub user: UserOut,
}

// ---------- catalogue ----------

#[derive(Debug, Clone, Object)]
pub struct ProductCard {
    pub id: i64,
    pub title: String,
    pub cover_url: Option<String>,
    /// Lowest price of the enabled SKUs.
    pub min_price_fen: Option<i64>,
    /// Whether any enabled SKU has stock.
    pub in_stock: bool,
}

impl ProductCard {
    pub fn new(p: &ProductSummary, base: &str) -> Self {
        ProductCard {
            id: p.id.get(),
            title: p.title.to_string(),
            cover_url: p.cover_url.as_deref().map(|u| abs(base, u)),
            min_price_fen: p.min_price.map(|f| f.get()),
            in_stock: p.in_stock,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct ProductPage {
    pub items: Vec<ProductCard>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl ProductPage {
    pub fn new(p: &Paged<ProductSummary>, base: &str) -> Self {
        ProductPage {
            items: p.items.iter().map(|s| ProductCard::new(s, base)).collect(),
            total: p.total,
            page: p.page.page,
            per_page: p.page.per_page,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct ImageOut {
    pub id: i64,
    pub url: String,
}

#[derive(Debug, Clone, Object)]
pub struct SkuOut {
    pub id: i64,
    /// e.g. `5kg 真空装`.
    pub spec: String,
    pub price_fen: i64,
    /// Units that can be ordered now.
    pub available: i64,
    /// A disabled SKU is shown but cannot be ordered.
    pub enabled: bool,
}

#[derive(Debug, Clone, Object)]
pub struct ProductDetail {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// False for a product taken off sale: show it, but it cannot be ordered.
    pub on_sale: bool,
    pub images: Vec<ImageOut>,
    pub skus: Vec<SkuOut>,
}

impl ProductDetail {
    pub fn new(p: &Product, base: &str) -> Self {
        ProductDetail {
            id: p.id.get(),
            title: p.title.to_string(),
            description: p.description.to_string(),
            on_sale: p.status == shop_core::catalogue::ProductStatus::OnSale,
            images: p
                .images
                .iter()
                .map(|i| ImageOut {
                    id: i.id.get(),
                    url: abs(base, &i.url),
                })
                .collect(),
            skus: p
                .skus
                .iter()
                .map(|s| SkuOut {
                    id: s.id.get(),
                    spec: s.spec.to_string(),
                    price_fen: s.price.get(),
                    available: s.stock.available(),
                    enabled: s.enabled,
                })
                .collect(),
        }
    }
}

// ---------- addresses ----------

#[derive(Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct AddressIn {
    pub receiver: String,
    /// Mainland China mobile number.
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
    /// Make this the default address (the first address always is).
    pub is_default: Option<bool>,
}

impl Example for AddressIn {
    fn example() -> Self {
        AddressIn {
            receiver: "张三".into(),
            phone: "13812345678".into(),
            province: "黑龙江省".into(),
            city: "哈尔滨市".into(),
            district: "五常市".into(),
            detail: "民乐乡红光村 1 号".into(),
            is_default: Some(true),
        }
    }
}

impl AddressIn {
    pub fn parse(&self) -> Result<AddressFields, ApiError> {
        Ok(AddressFields {
            receiver: text_at("receiver", &self.receiver, ReceiverName::parse)?,
            phone: text_at("phone", &self.phone, Phone::parse)?,
            province: text_at("province", &self.province, RegionPart::parse)?,
            city: text_at("city", &self.city, RegionPart::parse)?,
            district: text_at("district", &self.district, RegionPart::parse)?,
            detail: text_at("detail", &self.detail, AddressDetail::parse)?,
        })
    }
}

#[derive(Debug, Object)]
pub struct AddressOut {
    pub id: i64,
    pub receiver: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
    pub is_default: bool,
    pub updated_at: String,
}

impl From<&Address> for AddressOut {
    fn from(a: &Address) -> Self {
        let f = &a.fields;
        AddressOut {
            id: a.id.get(),
            receiver: f.receiver.to_string(),
            phone: f.phone.to_string(),
            province: f.province.to_string(),
            city: f.city.to_string(),
            district: f.district.to_string(),
            detail: f.detail.to_string(),
            is_default: a.is_default,
            updated_at: ts(a.updated_at),
        }
    }
}

// ---------- cart ----------

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CartItemIn {
    /// 1 to 99.
    pub quantity: i64,
}

#[derive(Debug, Object)]
pub struct CartLineOut {
    pub sku_id: i64,
    pub product_id: i64,
    pub title: String,
    pub spec: String,
    /// Today's price.
    pub price_fen: i64,
    pub quantity: i64,
    pub line_total_fen: i64,
    pub available: i64,
    pub sellable: bool,
    pub cover_url: Option<String>,
}

#[derive(Debug, Object)]
pub struct CartOut {
    pub lines: Vec<CartLineOut>,
    /// Total of the lines that can be ordered as they are.
    pub total_fen: i64,
}

impl CartOut {
    pub fn new(c: CartView, base: &str) -> Self {
        CartOut {
            total_fen: c.total.get(),
            lines: c
                .lines
                .into_iter()
                .map(|l| CartLineOut {
                    sku_id: l.sku_id.get(),
                    product_id: l.product_id.get(),
                    title: l.title.to_string(),
                    spec: l.spec.to_string(),
                    price_fen: l.price.get(),
                    quantity: l.quantity.get(),
                    line_total_fen: l.line_total.get(),
                    available: l.available,
                    sellable: l.sellable,
                    cover_url: l.cover_url.as_deref().map(|u| abs(base, u)),
                })
                .collect(),
        }
    }
}

// ---------- orders ----------

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OrderItemIn {
    pub sku_id: i64,
    /// 1 to 99.
    pub quantity: i64,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct PlaceOrderIn {
    /// What to order. Leave out and set `from_cart` to order the cart instead.
    pub items: Option<Vec<OrderItemIn>>,
    /// Order the cart (all of it, or the `cart_sku_ids` lines); ordered lines leave the cart.
    pub from_cart: Option<bool>,
    pub cart_sku_ids: Option<Vec<i64>>,
    pub address_id: i64,
    /// Up to 200 characters.
    pub remark: Option<String>,
}

impl Example for PlaceOrderIn {
    fn example() -> Self {
        PlaceOrderIn {
            items: Some(vec![OrderItemIn {
                sku_id: 3_145_728_000_001,
                quantity: 2,
            }]),
            from_cart: None,
            cart_sku_ids: None,
            address_id: 3_145_728_000_002,
            remark: Some("请尽快发货".into()),
        }
    }
}

pub fn parse_items(items: &[OrderItemIn]) -> Result<Vec<OrderItem>, ApiError> {
    if items.len() > 100 {
        return Err(ValidationError::new("items", "too_many", "at most 100 items").into());
    }
    items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            Ok(OrderItem {
                sku_id: id_at(&format!("items[{i}].sku_id"), it.sku_id)?,
                quantity: Quantity::new(it.quantity)
                    .map_err(|e| e.at(format!("items[{i}].quantity")))?,
            })
        })
        .collect()
}

pub fn parse_remark(remark: Option<&str>) -> Result<Remark, ApiError> {
    text_at("remark", remark.unwrap_or(""), Remark::parse)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatusOut {
    PendingPayment,
    Paid,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
}

impl From<OrderStatus> for OrderStatusOut {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::PendingPayment => Self::PendingPayment,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Shipped => Self::Shipped,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Refunded => Self::Refunded,
        }
    }
}

impl From<OrderStatusOut> for OrderStatus {
    fn from(s: OrderStatusOut) -> Self {
        match s {
            OrderStatusOut::PendingPayment => Self::PendingPayment,
            OrderStatusOut::Paid => Self::Paid,
            OrderStatusOut::Shipped => Self::Shipped,
            OrderStatusOut::Completed => Self::Completed,
            OrderStatusOut::Cancelled => Self::Cancelled,
            OrderStatusOut::Refunded => Self::Refunded,
        }
    }
}

#[derive(Debug, Object)]
pub struct OrderLineOut {
    pub sku_id: i64,
    pub product_id: i64,
    pub title: String,
    pub spec: String,
    pub unit_price_fen: i64,
    pub quantity: i64,
    pub line_total_fen: i64,
    pub cover_url: Option<String>,
}

#[derive(Debug, Object)]
pub struct ShippingAddressOut {
    pub receiver: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderOut {
    pub id: i64,
    /// Shown to shoppers and sent to WeChat as `out_trade_no`.
    pub order_no: String,
    pub status: OrderStatusOut,
    pub lines: Vec<OrderLineOut>,
    pub items_total_fen: i64,
    pub shipping_fee_fen: i64,
    /// What to pay, computed on the server.
    pub payable_fen: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    /// Held by refund requests that are not finished yet.
    pub refund_pending_fen: i64,
    pub address: ShippingAddressOut,
    pub remark: String,
    pub created_at: String,
    /// An unpaid order is cancelled at this time.
    pub expires_at: String,
    pub paid_at: Option<String>,
    pub shipped_at: Option<String>,
    pub completed_at: Option<String>,
    pub cancelled_at: Option<String>,
    /// `USER`, `OPERATOR` or `TIMEOUT`.
    pub cancel_reason: Option<String>,
    pub carrier: Option<String>,
    pub tracking_no: Option<String>,
    /// The payment arrived after the order had been cancelled.
    pub late_payment: bool,
    /// The buyer, for operators.
    pub user_id: Option<i64>,
}

impl OrderOut {
    pub fn from_order(o: &Order, for_operator: bool, base: &str) -> OrderOut {
        let a = &o.address;
        OrderOut {
            id: o.id.get(),
            order_no: o.order_no.to_string(),
            status: o.status.into(),
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineOut {
                    sku_id: l.sku_id.get(),
                    product_id: l.product_id.get(),
                    title: l.title.to_string(),
                    spec: l.spec.to_string(),
                    unit_price_fen: l.unit_price.get(),
                    quantity: l.quantity.get(),
                    line_total_fen: l.line_total.get(),
                    cover_url: l.cover_url.as_deref().map(|u| abs(base, u)),
                })
                .collect(),
            items_total_fen: o.items_total.get(),
            shipping_fee_fen: o.shipping_fee.get(),
            payable_fen: o.payable.get(),
            paid_fen: o.paid.get(),
            refunded_fen: o.refunded.get(),
            refund_pending_fen: o.refund_pending.get(),
            address: ShippingAddressOut {
                receiver: a.receiver.to_string(),
                phone: a.phone.to_string(),
                province: a.province.to_string(),
                city: a.city.to_string(),
                district: a.district.to_string(),
                detail: a.detail.to_string(),
            },
            remark: o.remark.to_string(),
            created_at: ts(o.created_at),
            expires_at: ts(o.expires_at),
            paid_at: o.paid_at.map(ts),
            shipped_at: o.shipped_at.map(ts),
            completed_at: o.completed_at.map(ts),
            cancelled_at: o.cancelled_at.map(ts),
            cancel_reason: o.cancel_reason.map(|r| r.as_str().to_string()),
            carrier: o.shipment.as_ref().map(|s| s.carrier.to_string()),
            tracking_no: o.shipment.as_ref().map(|s| s.tracking_no.to_string()),
            late_payment: o.late_payment,
            user_id: for_operator.then(|| o.user_id.get()),
        }
    }
}

#[derive(Debug, Object)]
pub struct OrderPage {
    pub items: Vec<OrderOut>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl OrderPage {
    pub fn from_paged(p: &Paged<Order>, for_operator: bool, base: &str) -> OrderPage {
        OrderPage {
            items: p
                .items
                .iter()
                .map(|o| OrderOut::from_order(o, for_operator, base))
                .collect(),
            total: p.total,
            page: p.page.page,
            per_page: p.page.per_page,
        }
    }
}
