//! The HTTP contract, all under `/api/v1`. `docs/openapi.json` is generated from these types
//! (`shop-api openapi`) and a test fails when the committed file differs.

pub mod admin;
pub mod models;
pub mod orders;
pub mod payments;
pub mod platform;
pub mod refunds;
pub mod shop;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
pub enum ApiTags {
    /// Shopper login with WeChat.
    Auth,
    /// Products and their SKUs, for shoppers.
    Catalogue,
    /// The shopper's delivery addresses.
    Addresses,
    /// The shopper's cart, priced live.
    Cart,
    /// Placing, listing, cancelling and receiving orders.
    Orders,
    /// Paying with WeChat Pay, and WeChat's signed callbacks.
    Payments,
    /// Refund requests and their decisions.
    Refunds,
    /// Operator login and accounts.
    AdminAuth,
    /// Back office: products, SKUs, stock, images.
    AdminCatalogue,
    /// Back office: order search, shipping, cancelling, export.
    AdminOrders,
    /// Back office: reports.
    AdminReports,
}

pub type Apis = (
    shop::ShopApi,
    orders::OrdersApi,
    admin::AdminApi,
    platform::PlatformApi,
    payments::PaymentsApi,
    refunds::RefundsApi,
    refunds::AdminMoneyApi,
);

/// The API service; handlers find the [`crate::state::AppState`] in the request data.
pub fn service(server_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            shop::ShopApi,
            orders::OrdersApi,
            admin::AdminApi,
            platform::PlatformApi,
            payments::PaymentsApi,
            refunds::RefundsApi,
            refunds::AdminMoneyApi,
        ),
        "Wuchang Rice Shop API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "The backend of a WeChat mini-program shop selling Wuchang rice. Money is integer fen \
         (1 yuan = 100 fen); times are RFC 3339. Errors are `{code, message, request_id}` with a \
         stable `code`. Every response carries `x-request-id`. POST /orders and refund requests \
         require an `Idempotency-Key` header.",
    )
    .server(server_url)
}

/// The OpenAPI document, pretty-printed, as committed in `docs/openapi.json`.
pub fn spec_json() -> String {
    service("/").spec()
}
