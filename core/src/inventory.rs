//! Stock of one SKU. `on_hand` is what is in the warehouse, `reserved` what pending orders hold.
//! Placing an order reserves, paying commits (the goods leave `on_hand`), cancelling releases.
//! `available = on_hand − reserved` is never negative and `reserved` never exceeds `on_hand`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("only {available} available, {requested} requested")]
    Insufficient { available: i64, requested: i64 },
    #[error("only {reserved} reserved, cannot take {requested}")]
    NotReserved { reserved: i64, requested: i64 },
    #[error("quantity must be positive")]
    NonPositive,
    #[error("on hand {on_hand} would fall below the {reserved} reserved by open orders")]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("arithmetic overflow")]
    Overflow,
}

/// Stock levels of one SKU. Fields are private: every change goes through a rule below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stock {
    on_hand: i64,
    reserved: i64,
}

impl Stock {
    pub fn new(on_hand: i64, reserved: i64) -> Result<Self, InventoryError> {
        if on_hand < 0 || reserved < 0 {
            return Err(InventoryError::NonPositive);
        }
        if reserved > on_hand {
            return Err(InventoryError::BelowReserved { on_hand, reserved });
        }
        Ok(Stock { on_hand, reserved })
    }

    pub const fn on_hand(self) -> i64 {
        self.on_hand
    }
    pub const fn reserved(self) -> i64 {
        self.reserved
    }
    pub const fn available(self) -> i64 {
        self.on_hand - self.reserved
    }

    fn positive(q: i64) -> Result<(), InventoryError> {
        if q <= 0 {
            Err(InventoryError::NonPositive)
        } else {
            Ok(())
        }
    }

    /// An order is placed: hold `q` for it.
    pub fn reserve(self, q: i64) -> Result<Self, InventoryError> {
        Self::positive(q)?;
        if self.available() < q {
            return Err(InventoryError::Insufficient {
                available: self.available(),
                requested: q,
            });
        }
        Ok(Stock {
            reserved: self.reserved + q,
            ..self
        })
    }

    /// The order is paid: the held goods are sold.
    pub fn commit(self, q: i64) -> Result<Self, InventoryError> {
        Self::positive(q)?;
        if self.reserved < q {
            return Err(InventoryError::NotReserved {
                reserved: self.reserved,
                requested: q,
            });
        }
        Ok(Stock {
            on_hand: self.on_hand - q,
            reserved: self.reserved - q,
        })
    }

    /// The order is cancelled: give the held goods back.
    pub fn release(self, q: i64) -> Result<Self, InventoryError> {
        Self::positive(q)?;
        if self.reserved < q {
            return Err(InventoryError::NotReserved {
                reserved: self.reserved,
                requested: q,
            });
        }
        Ok(Stock {
            reserved: self.reserved - q,
            ..self
        })
    }

    /// A payment arrived for an order that had already released its stock: sell directly
    /// from what is available, or fail.
    pub fn sell_direct(self, q: i64) -> Result<Self, InventoryError> {
        self.reserve(q)?.commit(q)
    }

    /// Goods come back into the warehouse (a refund before shipping, or a delivery).
    pub fn restock(self, q: i64) -> Result<Self, InventoryError> {
        Self::positive(q)?;
        let on_hand = self
            .on_hand
            .checked_add(q)
            .ok_or(InventoryError::Overflow)?;
        Ok(Stock { on_hand, ..self })
    }

    /// An operator adds (or with a negative delta removes) units; on hand may not fall below
    /// what open orders hold.
    pub fn adjust(self, delta: i64) -> Result<Self, InventoryError> {
        let on_hand = self
            .on_hand
            .checked_add(delta)
            .ok_or(InventoryError::Overflow)?;
        self.set_on_hand(on_hand)
    }

    /// An operator counts the warehouse and sets `on_hand`; it may not fall below what open
    /// orders hold.
    pub fn set_on_hand(self, on_hand: i64) -> Result<Self, InventoryError> {
        if on_hand < self.reserved {
            return Err(InventoryError::BelowReserved {
                on_hand,
                reserved: self.reserved,
            });
        }
        Ok(Stock { on_hand, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_rules() {
        let s = Stock::new(10, 0).unwrap();
        let s = s.reserve(4).unwrap();
        assert_eq!((s.on_hand(), s.reserved(), s.available()), (10, 4, 6));
        assert!(matches!(
            s.reserve(7),
            Err(InventoryError::Insufficient {
                available: 6,
                requested: 7
            })
        ));
        let s = s.commit(3).unwrap();
        assert_eq!((s.on_hand(), s.reserved()), (7, 1));
        let s = s.release(1).unwrap();
        assert_eq!((s.on_hand(), s.reserved()), (7, 0));
        assert!(s.release(1).is_err());
        assert!(s.reserve(0).is_err());
        assert!(s.reserve(-1).is_err());
        assert!(Stock::new(1, 2).is_err());
        assert!(s.reserve(2).unwrap().set_on_hand(1).is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Reserve(i64),
        Commit(i64),
        Release(i64),
        SellDirect(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..20).prop_map(Op::Reserve),
            (1i64..20).prop_map(Op::Commit),
            (1i64..20).prop_map(Op::Release),
            (1i64..20).prop_map(Op::SellDirect),
        ]
    }

    proptest! {
        /// Whatever sequence of operations is attempted, stock is conserved
        /// (on_hand + sold is constant) and the invariants hold after every step.
        #[test]
        fn stock_is_conserved(initial in 0i64..100, ops in proptest::collection::vec(op(), 0..200)) {
            let mut s = Stock::new(initial, 0).unwrap();
            let mut sold = 0i64;
            for op in ops {
                let next = match op {
                    Op::Reserve(q) => s.reserve(q),
                    Op::Commit(q) => s.commit(q).inspect(|_| sold += q),
                    Op::Release(q) => s.release(q),
                    Op::SellDirect(q) => s.sell_direct(q).inspect(|_| sold += q),
                };
                if let Ok(n) = next { s = n; }
                prop_assert!(s.reserved() >= 0);
                prop_assert!(s.available() >= 0);
                prop_assert!(s.on_hand() >= s.reserved());
                prop_assert_eq!(s.on_hand() + sold, initial);
            }
        }
    }
}
