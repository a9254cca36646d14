//! Shopper endpoints: login, catalogue, addresses, cart.

use super::models::*;
use super::ApiTags;
use crate::auth::ShopperAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use poem::web::Data;
use poem::web::RemoteAddr;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use shop_core::address::Address;
use shop_core::ids::{AddressId, ProductId, SkuId};
use shop_core::order::Quantity;
use shop_core::ports::Page;
use shop_core::time::Span;
use shop_core::ErrorCode;

pub struct ShopApi;

#[derive(ApiResponse)]
pub enum Created<T: poem_openapi::types::ToJSON + Send + Sync> {
    #[oai(status = 201)]
    Created(Json<T>),
}

#[derive(ApiResponse)]
pub enum NoContent {
    #[oai(status = 204)]
    NoContent,
}

pub fn page(page: Option<u32>, per_page: Option<u32>) -> Page {
    Page::new(page.unwrap_or(1), per_page.unwrap_or(20))
}

impl ShopApi {
    async fn limit(state: &AppState, key: String, per_minute: u32) -> ApiResult<()> {
        let now = state.shop.clock.now();
        if state
            .limiter
            .allow(&key, per_minute, Span::minutes(1), now)
            .await
        {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many requests; wait a minute",
            ))
        }
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl ShopApi {
    /// Log in with the code from `wx.login()`.
    ///
    /// The server exchanges it with WeChat (`jscode2session`) and returns a session token.
    /// WeChat's `session_key` stays on the server.
    #[oai(path = "/auth/wechat-login", method = "post", tag = "ApiTags::Auth")]
    async fn wechat_login(
        &self,
        state: Data<&AppState>,
        peer: &RemoteAddr,
        body: Json<WechatLoginIn>,
    ) -> ApiResult<Json<WechatLoginOut>> {
        let ip = peer
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Self::limit(
            &state,
            format!("login:{ip}"),
            state.config.rate_login_per_minute,
        )
        .await?;
        let li = state.accounts.wechat_login(&body.0.code).await?;
        Ok(Json(WechatLoginOut {
            token: li.token,
            expires_at: ts(li.expires_at),
            user: UserOut {
                id: li.user.id.get(),
                nickname: li.user.nickname.map(|n| n.to_string()),
            },
        }))
    }

    /// Products on sale, in shelf order.
    #[oai(path = "/products", method = "get", tag = "ApiTags::Catalogue")]
    async fn products(
        &self,
        state: Data<&AppState>,
        page: Query<Option<u32>>,
        per_page: Query<Option<u32>>,
    ) -> ApiResult<Json<ProductPage>> {
        let paging = super::shop::page(page.0, per_page.0);
        let key = (paging.page, paging.per_page);
        let now = state.shop.clock.now();
        if let Some(hit) = state.shelf.page(key, now) {
            return Ok(Json(ProductPage::clone(&hit)));
        }
        let p = state
            .shop
            .catalogue
            .list_on_sale(paging)
            .await
            .map_err(shop_core::ShopError::from)?;
        let out = ProductPage::new(&p, &state.public_base);
        state
            .shelf
            .put_page(key, now, std::sync::Arc::new(out.clone()));
        Ok(Json(out))
    }

    /// One product with its pictures, description and SKUs (price and available stock).
    #[oai(path = "/products/:id", method = "get", tag = "ApiTags::Catalogue")]
    async fn product(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
    ) -> ApiResult<Json<ProductDetail>> {
        let id: ProductId = id_at("id", id.0)?;
        let now = state.shop.clock.now();
        if let Some(hit) = state.shelf.product(id.get(), now) {
            return Ok(Json(ProductDetail::clone(&hit)));
        }
        let p = state
            .shop
            .catalogue
            .get_product(id)
            .await
            .map_err(shop_core::ShopError::from)?;
        let p = p.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such product"))?;
        let out = ProductDetail::new(&p, &state.public_base);
        state
            .shelf
            .put_product(id.get(), now, std::sync::Arc::new(out.clone()));
        Ok(Json(out))
    }

    /// The shopper's addresses, default first.
    #[oai(path = "/addresses", method = "get", tag = "ApiTags::Addresses")]
    async fn addresses(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
    ) -> ApiResult<Json<Vec<AddressOut>>> {
        let list = state
            .shop
            .addresses
            .list(auth.0)
            .await
            .map_err(shop_core::ShopError::from)?;
        Ok(Json(list.iter().map(AddressOut::from).collect()))
    }

    /// Adds an address (at most 20).
    #[oai(path = "/addresses", method = "post", tag = "ApiTags::Addresses")]
    async fn add_address(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        body: Json<AddressIn>,
    ) -> ApiResult<Created<AddressOut>> {
        let fields = body.0.parse()?;
        let now = state.shop.clock.now();
        let id: AddressId = id_at("id", state.shop.ids.next_id())?;
        let a = Address {
            id,
            user_id: auth.0,
            fields,
            is_default: body.0.is_default.unwrap_or(false),
            created_at: now,
            updated_at: now,
        };
        let stored = state
            .shop
            .addresses
            .create(&a)
            .await
            .map_err(shop_core::ShopError::from)?;
        Ok(Created::Created(Json(AddressOut::from(&stored))))
    }

    /// Replaces an address.
    #[oai(path = "/addresses/:id", method = "put", tag = "ApiTags::Addresses")]
    async fn update_address(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
        body: Json<AddressIn>,
    ) -> ApiResult<Json<AddressOut>> {
        let id: AddressId = id_at("id", id.0)?;
        let fields = body.0.parse()?;
        let now = state.shop.clock.now();
        let a = Address {
            id,
            user_id: auth.0,
            fields,
            is_default: body.0.is_default.unwrap_or(false),
            created_at: now,
            updated_at: now,
        };
        let stored = state
            .shop
            .addresses
            .update(&a)
            .await
            .map_err(shop_core::ShopError::from)?;
        Ok(Json(AddressOut::from(&stored)))
    }

    /// Deletes an address; if it was the default, the most recent other one becomes default.
    #[oai(path = "/addresses/:id", method = "delete", tag = "ApiTags::Addresses")]
    async fn delete_address(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
    ) -> ApiResult<NoContent> {
        let id: AddressId = id_at("id", id.0)?;
        state
            .shop
            .addresses
            .delete(auth.0, id)
            .await
            .map_err(shop_core::ShopError::from)?;
        Ok(NoContent::NoContent)
    }

    /// The cart with today's prices and stock.
    #[oai(path = "/cart", method = "get", tag = "ApiTags::Cart")]
    async fn cart(&self, state: Data<&AppState>, auth: ShopperAuth) -> ApiResult<Json<CartOut>> {
        Ok(Json(CartOut::new(
            state.shop.cart(auth.0).await?,
            &state.public_base,
        )))
    }

    /// Sets the quantity of a SKU in the cart (adding it if needed).
    #[oai(path = "/cart/items/:sku_id", method = "put", tag = "ApiTags::Cart")]
    async fn set_cart_item(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        sku_id: Path<i64>,
        body: Json<CartItemIn>,
    ) -> ApiResult<Json<CartOut>> {
        let sku: SkuId = id_at("sku_id", sku_id.0)?;
        let q = Quantity::new(body.0.quantity)?;
        Ok(Json(CartOut::new(
            state.shop.set_cart_item(auth.0, sku, q).await?,
            &state.public_base,
        )))
    }

    /// Removes a SKU from the cart.
    #[oai(path = "/cart/items/:sku_id", method = "delete", tag = "ApiTags::Cart")]
    async fn remove_cart_item(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        sku_id: Path<i64>,
    ) -> ApiResult<Json<CartOut>> {
        let sku: SkuId = id_at("sku_id", sku_id.0)?;
        Ok(Json(CartOut::new(
            state.shop.remove_cart_item(auth.0, sku).await?,
            &state.public_base,
        )))
    }
}
