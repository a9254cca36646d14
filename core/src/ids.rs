//! Identifiers. Every entity id is a positive 64-bit integer handed out by the id-generation port
//! (so rows can be written without a round trip for `LAST_INSERT_ID`), wrapped in its own type
//! so an order id can never be passed where a user id is expected.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name(i64);

        impl $name {
            /// Accepts any positive id; zero and negatives never name a row.
            pub fn new(id: i64) -> Result<Self, ValidationError> {
                if id > 0 {
                    Ok(Self(id))
                } else {
                    Err(ValidationError::new($field, "not_an_id", "must be a positive id"))
                }
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = ValidationError;
            fn try_from(v: i64) -> Result<Self, Self::Error> {
                Self::new(v)
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let n: i64 = s
                    .trim()
                    .parse()
                    .map_err(|_| ValidationError::new($field, "not_an_id", "must be a positive id"))?;
                Self::new(n)
            }
        }
    };
}

id_type!(
    /// A shopper.
    UserId, "user_id");
id_type!(
    /// A back-office account.
    OperatorId, "operator_id");
id_type!(
    /// A product (one listing, with one or more SKUs).
    ProductId, "product_id");
id_type!(
    /// A sellable variant of a product, e.g. "5kg 真空装".
    SkuId, "sku_id");
id_type!(
    /// A product picture.
    ImageId, "image_id");
id_type!(
    /// A shopper's delivery address.
    AddressId, "address_id");
id_type!(
    /// An order.
    OrderId, "order_id");
id_type!(
    /// A payment attempt (one per order: WeChat allows an `out_trade_no` to be paid once).
    PaymentId, "payment_id");
id_type!(
    /// A refund.
    RefundId, "refund_id");
id_type!(
    /// An outbox event.
    EventId, "event_id");
