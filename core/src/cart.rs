//! The shopper's cart: SKU and quantity only. Prices are looked up when the cart is shown and
//! again when an order is placed, never stored here.

use crate::ids::{SkuId, UserId};
use crate::order::Quantity;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How many distinct SKUs a cart may hold.
pub const MAX_CART_LINES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub user_id: UserId,
    pub sku_id: SkuId,
    pub quantity: Quantity,
    pub updated_at: Timestamp,
}
