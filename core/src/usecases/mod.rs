//! Use-cases: the shop's business steps, written against the ports. Frontends (API, CLI,
//! worker) only parse input, call one of these and format the answer.

mod accounts;
mod backoffice;
mod cancel;
mod errors;
mod payment;
mod place;
mod refund;
mod shopper;
mod sweeps;

pub use accounts::{Accounts, LoggedIn, OperatorLoggedIn, MIN_PASSWORD_CHARS};
pub use backoffice::{Backoffice, NewProduct, NewSku, ProductPatch, SkuPatch};
pub use cancel::{CancelOutcome, ExpireReport, CLAIM_LEASE};
pub use errors::ShopError;
pub use payment::{Confirmed, PaymentReport};
pub use place::{GateUse, OrderItem, PlaceOrder, Placed};
pub use refund::RefundRequestCmd;
pub use shopper::{CartCheckout, CartLineView, CartView};
pub use sweeps::{GateCheck, Operations, PaymentSweep, Purge, RefundSweep};

use crate::events::{EventData, OutboxEvent};
use crate::ids::EventId;
use crate::order::{Order, OrderEventKind, OrderPolicy};
use crate::ports::{
    AddressStore, CartStore, CatalogueStore, Clock, IdGenerator, IdempotencyStore, OrderStore,
    PaymentGateway, PaymentStore, RefundStore, StockGate,
};
use std::sync::Arc;

/// The ports the use-cases work with. Built once by each binary from its configuration.
#[derive(Clone)]
pub struct Shop {
    pub catalogue: Arc<dyn CatalogueStore>,
    pub addresses: Arc<dyn AddressStore>,
    pub carts: Arc<dyn CartStore>,
    pub orders: Arc<dyn OrderStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub refunds: Arc<dyn RefundStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub gate: Arc<dyn StockGate>,
    pub gateway: Arc<dyn PaymentGateway>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub policy: OrderPolicy,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop")
            .field("gate", &self.gate.kind())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// How many times a use-case re-reads and re-decides after a concurrent change.
const MAX_ATTEMPTS: usize = 4;

impl Shop {
    fn event_id(&self) -> Result<EventId, ShopError> {
        EventId::new(self.ids.next_id()).map_err(|e| ShopError::Internal(e.to_string()))
    }

    fn event(&self, data: EventData) -> Result<OutboxEvent, ShopError> {
        Ok(data.into_event(self.event_id()?, self.clock.now()))
    }

    fn order_events(
        &self,
        kinds: &[OrderEventKind],
        order: &Order,
    ) -> Result<Vec<OutboxEvent>, ShopError> {
        kinds
            .iter()
            .map(|k| self.event(EventData::for_order(*k, order)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
