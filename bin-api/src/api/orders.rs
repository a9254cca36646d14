//! Shopper order endpoints.

use super::models::*;
use super::ApiTags;
use crate::auth::ShopperAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use shop_core::audit::Actor;
use shop_core::ids::{AddressId, OrderId, SkuId};
use shop_core::time::Span;
use shop_core::usecases::{CartCheckout, GateUse, PlaceOrder, Placed};
use shop_core::{ErrorCode, ShopError};

pub struct OrdersApi;

#[derive(ApiResponse)]
pub enum PlaceOrderResponse {
    /// The order was placed and its stock is held until `expires_at`.
    #[oai(status = 201)]
    Created(Json<OrderOut>),
    /// This key was used before with the same request: the order it created, as it is now.
    #[oai(status = 200)]
    Replayed(
        Json<OrderOut>,
        #[oai(header = "Idempotent-Replayed")] String,
    ),
}

impl OrdersApi {
    async fn own_order(
        state: &AppState,
        user: shop_core::ids::UserId,
        id: i64,
    ) -> ApiResult<shop_core::order::Order> {
        let id: OrderId = id_at("id", id)?;
        match state.shop.orders.get(id).await.map_err(ShopError::from)? {
            Some(o) if o.user_id == user => Ok(o),
            // Someone else's order is indistinguishable from a missing one.
            _ => Err(ApiError::new(ErrorCode::NotFound, "no such order")),
        }
    }

    fn count(state: &AppState, result: &Result<Placed, ShopError>) {
        let m = &state.metrics;
        match result {
            Ok(p) if !p.replayed => {
                m.orders_created.inc();
                if p.gate == GateUse::Fallback {
                    m.gate_fallbacks.inc();
                }
            }
            Ok(_) => {}
            Err(e) => m
                .orders_failed
                .with_label_values(&[e.code().as_str()])
                .inc(),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl OrdersApi {
    /// Places an order. Requires an `Idempotency-Key` (8–64 characters, e.g. a UUID made once
    /// per checkout and reused on every retry of it): the same key with the same body returns
    /// the same order; with another body 422; while the first is still running 409.
    ///
    /// Prices come from the catalogue at this moment; the stock is held for 30 minutes.
    #[oai(path = "/orders", method = "post", tag = "ApiTags::Orders")]
    async fn place(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: Json<PlaceOrderIn>,
    ) -> ApiResult<PlaceOrderResponse> {
        let key = idempotency_key(key.0)?;
        let now = state.shop.clock.now();
        if !state
            .limiter
            .allow(
                &format!("orders:{}", auth.0),
                state.config.rate_orders_per_minute,
                Span::minutes(1),
                now,
            )
            .await
        {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many orders; wait a minute",
            ));
        }
        let b = body.0;
        let address_id: AddressId = id_at("address_id", b.address_id)?;
        let remark = parse_remark(b.remark.as_deref())?;
        let result = match (b.items, b.from_cart.unwrap_or(false)) {
            (Some(_), true) => {
                return Err(ApiError::with_field(
                    ErrorCode::ValidationFailed,
                    Some("from_cart".into()),
                    "send either items or from_cart",
                ))
            }
            (Some(items), false) => {
                let cmd = PlaceOrder {
                    items: parse_items(&items)?,
                    address_id,
                    remark,
                };
                state.shop.place_order(auth.0, &cmd, &key).await
            }
            (None, true) => {
                let skus = b
                    .cart_sku_ids
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| id_at::<SkuId>(&format!("cart_sku_ids[{i}]"), s))
                    .collect::<Result<Vec<_>, _>>()?;
                state
                    .shop
                    .checkout_cart(
                        auth.0,
                        &CartCheckout {
                            skus,
                            address_id,
                            remark,
                        },
                        &key,
                    )
                    .await
            }
            (None, false) => {
                return Err(ApiError::with_field(
                    ErrorCode::ValidationFailed,
                    Some("items".into()),
                    "send items, or from_cart: true",
                ))
            }
        };
        Self::count(&state, &result);
        let placed = result?;
        let out = Json(OrderOut::from_order(
            &placed.order,
            false,
            &state.public_base,
        ));
        Ok(if placed.replayed {
            PlaceOrderResponse::Replayed(out, "true".into())
        } else {
            PlaceOrderResponse::Created(out)
        })
    }

    /// The shopper's orders, newest first, optionally of one status.
    #[oai(path = "/orders", method = "get", tag = "ApiTags::Orders")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        status: Query<Option<OrderStatusOut>>,
        page: Query<Option<u32>>,
        per_page: Query<Option<u32>>,
    ) -> ApiResult<Json<OrderPage>> {
        let p = state
            .shop
            .orders
            .list_for_user(
                auth.0,
                status.0.map(Into::into),
                super::shop::page(page.0, per_page.0),
            )
            .await
            .map_err(ShopError::from)?;
        Ok(Json(OrderPage::from_paged(&p, false, &state.public_base)))
    }

    /// One of the shopper's orders. With `check_payment=true` (after `wx.requestPayment`
    /// reported success) an unpaid order with a prepay is first checked with WeChat, so the
    /// answer is PAID even when WeChat's callback has not arrived yet.
    #[oai(path = "/orders/:id", method = "get", tag = "ApiTags::Orders")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
        check_payment: Query<Option<bool>>,
    ) -> ApiResult<Json<OrderOut>> {
        let o = if check_payment.0.unwrap_or(false) {
            state.shop.check_payment(auth.0, id_at("id", id.0)?).await?
        } else {
            Self::own_order(&state, auth.0, id.0).await?
        };
        Ok(Json(OrderOut::from_order(&o, false, &state.public_base)))
    }

    /// Cancels an unpaid order and gives its stock back.
    #[oai(path = "/orders/:id/cancel", method = "post", tag = "ApiTags::Orders")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<OrderOut>> {
        let o = Self::own_order(&state, auth.0, id.0).await?;
        let cancelled = state
            .shop
            .cancel_order(&Actor::User { id: auth.0 }, o.id, None)
            .await?;
        Ok(Json(OrderOut::from_order(
            &cancelled,
            false,
            &state.public_base,
        )))
    }

    /// The parcel arrived: completes a shipped order.
    #[oai(
        path = "/orders/:id/confirm-receipt",
        method = "post",
        tag = "ApiTags::Orders"
    )]
    async fn confirm_receipt(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<OrderOut>> {
        let id: OrderId = id_at("id", id.0)?;
        let o = state.shop.confirm_receipt(auth.0, id).await?;
        Ok(Json(OrderOut::from_order(&o, false, &state.public_base)))
    }
}
