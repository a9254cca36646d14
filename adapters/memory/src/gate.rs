use async_trait::async_trait;
use shop_core::ids::{OrderId, SkuId};
use shop_core::ports::{GateDecision, GateError, StockGate};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Inner {
    available: HashMap<SkuId, i64>,
    holds: HashMap<OrderId, Vec<(SkuId, i64)>>,
}

/// The stock gate for a single process: the same semantics as the Redis gate, under a mutex
/// that is never held across an await.
#[derive(Debug, Default)]
pub struct MemoryGate {
    inner: Mutex<Inner>,
}

impl MemoryGate {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, GateError> {
        self.inner
            .lock()
            .map_err(|_| GateError::Unavailable("gate lock poisoned".into()))
    }
}

#[async_trait]
impl StockGate for MemoryGate {
    async fn try_reserve(
        &self,
        order: OrderId,
        items: &[(SkuId, i64)],
    ) -> Result<GateDecision, GateError> {
        let mut g = self.lock()?;
        if g.holds.contains_key(&order) {
            return Ok(GateDecision::Reserved);
        }
        let missing: Vec<SkuId> = items
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| !g.available.contains_key(s))
            .collect();
        if !missing.is_empty() {
            return Ok(GateDecision::NotLoaded { skus: missing });
        }
        for (sku, q) in items {
            let available = g.available.get(sku).copied().unwrap_or(0);
            if available < *q {
                return Ok(GateDecision::Insufficient {
                    sku_id: *sku,
                    available,
                });
            }
        }
        for (sku, q) in items {
            if let Some(a) = g.available.get_mut(sku) {
                *a -= q;
            }
        }
        g.holds.insert(order, items.to_vec());
        Ok(GateDecision::Reserved)
    }

    async fn release(&self, order: OrderId) -> Result<bool, GateError> {
        let mut g = self.lock()?;
        let Some(items) = g.holds.remove(&order) else {
            return Ok(false);
        };
        for (sku, q) in items {
            if let Some(a) = g.available.get_mut(&sku) {
                *a += q;
            }
        }
        Ok(true)
    }

    async fn commit(&self, order: OrderId) -> Result<bool, GateError> {
        Ok(self.lock()?.holds.remove(&order).is_some())
    }

    async fn adjust(&self, deltas: &[(SkuId, i64)]) -> Result<(), GateError> {
        let mut g = self.lock()?;
        for (sku, d) in deltas {
            if let Some(a) = g.available.get_mut(sku) {
                *a = (*a + d).max(0);
            }
        }
        Ok(())
    }

    async fn load(&self, levels: &[(SkuId, i64)], overwrite: bool) -> Result<(), GateError> {
        let mut g = self.lock()?;
        for (sku, n) in levels {
            if overwrite {
                g.available.insert(*sku, (*n).max(0));
            } else {
                g.available.entry(*sku).or_insert((*n).max(0));
            }
        }
        Ok(())
    }

    async fn available(&self, skus: &[SkuId]) -> Result<Vec<(SkuId, Option<i64>)>, GateError> {
        let g = self.lock()?;
        Ok(skus
            .iter()
            .map(|s| (*s, g.available.get(s).copied()))
            .collect())
    }

    async fn rebuild(&self, levels: &[(SkuId, i64)]) -> Result<(), GateError> {
        let mut g = self.lock()?;
        g.holds.clear();
        g.available = levels.iter().map(|(s, n)| (*s, (*n).max(0))).collect();
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
