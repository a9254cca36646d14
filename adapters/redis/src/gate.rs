use crate::conn::RedisConn;
use async_trait::async_trait;
use redis::{AsyncCommands, Script};
use shop_core::ids::{OrderId, SkuId};
use shop_core::ports::{GateDecision, GateError, StockGate};

/// Holds all SKUs of an order or none. KEYS: hold key, then one key per SKU; ARGV: the
/// quantities, then the hold's encoding and its time to live. Returns `{0}` reserved (or
/// already held by this order), `{2, i…}` SKUs (1-based) not loaded, `{3, i, available}` short.
const RESERVE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local n = #KEYS - 1
local missing = {2}
for i = 1, n do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then table.insert(missing, i) end
end
if #missing > 1 then return missing end
for i = 1, n do
  local available = tonumber(redis.call('GET', KEYS[i + 1]))
  if available < tonumber(ARGV[i]) then return {3, i, available} end
end
for i = 1, n do redis.call('DECRBY', KEYS[i + 1], ARGV[i]) end
redis.call('SET', KEYS[1], ARGV[n + 1], 'EX', ARGV[n + 2])
return {0}
";

/// Gives a hold back if it is still the one read before. KEYS: hold, SKU keys; ARGV: the
/// expected encoding, then the quantities.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[i]) end
end
redis.call('DEL', KEYS[1])
return 1
";

/// Adds deltas to loaded SKUs, never below zero. KEYS: SKU keys; ARGV: deltas.
const ADJUST: &str = r"
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('INCRBY', KEYS[i], ARGV[i]) < 0 then redis.call('SET', KEYS[i], 0) end
  end
end
return 1
";

/// A hold outlives any unpaid order (30 minutes by default) by far; the TTL only cleans up
/// after a process that died between reserving and writing its order.
const HOLD_TTL_SECS: u64 = 2 * 24 * 3600;

/// The stock gate on Redis.
#[derive(Debug, Clone)]
pub struct RedisGate {
    conn: RedisConn,
    tag: String,
    reserve: Script,
    release: Script,
    adjust: Script,
}

fn encode(items: &[(SkuId, i64)]) -> String {
    items
        .iter()
        .map(|(s, q)| format!("{s}:{q}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn decode(s: &str) -> Vec<(SkuId, i64)> {
    s.split(',')
        .filter_map(|part| {
            let (sku, q) = part.split_once(':')?;
            Some((sku.parse().ok()?, q.parse().ok()?))
        })
        .collect()
}

impl RedisGate {
    /// `prefix` namespaces the keys (tests use one per test); it becomes the hash tag.
    pub fn new(conn: RedisConn, prefix: &str) -> Self {
        RedisGate {
            conn,
            tag: format!("{{{prefix}}}"),
            reserve: Script::new(RESERVE),
            release: Script::new(RELEASE),
            adjust: Script::new(ADJUST),
        }
    }

    fn sku_key(&self, sku: SkuId) -> String {
        format!("{}:sku:{sku}", self.tag)
    }

    fn hold_key(&self, order: OrderId) -> String {
        format!("{}:hold:{order}", self.tag)
    }

    async fn delete_matching(&self, pattern: String) -> Result<(), GateError> {
        self.conn
            .call(|mut c| async move {
                let mut cursor: u64 = 0;
                loop {
                    let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await?;
                    if !keys.is_empty() {
                        let _: () = c.del(keys).await?;
                    }
                    if next == 0 {
                        return Ok(());
                    }
                    cursor = next;
                }
            })
            .await
            .map_err(GateError::Unavailable)
    }
}

#[async_trait]
impl StockGate for RedisGate {
    async fn try_reserve(
        &self,
        order: OrderId,
        items: &[(SkuId, i64)],
    ) -> Result<GateDecision, GateError> {
        let mut inv = self.reserve.prepare_invoke();
        inv.key(self.hold_key(order));
        for (sku, _) in items {
            inv.key(self.sku_key(*sku));
        }
        for (_, q) in items {
            inv.arg(*q);
        }
        inv.arg(encode(items)).arg(HOLD_TTL_SECS);
        let answer: Vec<i64> = self
            .conn
            .call(|mut c| async move { inv.invoke_async(&mut c).await })
            .await
            .map_err(GateError::Unavailable)?;
        let sku_at = |i: i64| {
            usize::try_from(i - 1)
                .ok()
                .and_then(|i| items.get(i))
                .map(|(s, _)| *s)
        };
        match answer.as_slice() {
            [0] => Ok(GateDecision::Reserved),
            [2, rest @ ..] => Ok(GateDecision::NotLoaded {
                skus: rest.iter().filter_map(|i| sku_at(*i)).collect(),
            }),
            [3, i, available] => match sku_at(*i) {
                Some(sku_id) => Ok(GateDecision::Insufficient {
                    sku_id,
                    available: *available,
                }),
                None => Err(GateError::Unavailable(format!(
                    "unexpected gate answer {answer:?}"
                ))),
            },
            other => Err(GateError::Unavailable(format!(
                "unexpected gate answer {other:?}"
            ))),
        }
    }

    async fn release(&self, order: OrderId) -> Result<bool, GateError> {
        let hold_key = self.hold_key(order);
        let key = hold_key.clone();
        let held: Option<String> = self
            .conn
            .call(|mut c| async move { c.get(key).await })
            .await
            .map_err(GateError::Unavailable)?;
        let Some(held) = held else { return Ok(false) };
        let items = decode(&held);
        let mut inv = self.release.prepare_invoke();
        inv.key(hold_key).arg(&held);
        for (sku, q) in &items {
            inv.key(self.sku_key(*sku)).arg(*q);
        }
        let done: i64 = self
            .conn
            .call(|mut c| async move { inv.invoke_async(&mut c).await })
            .await
            .map_err(GateError::Unavailable)?;
        Ok(done == 1)
    }

    async fn commit(&self, order: OrderId) -> Result<bool, GateError> {
        let key = self.hold_key(order);
        let n: i64 = self
            .conn
            .call(|mut c| async move { c.del(key).await })
            .await
            .map_err(GateError::Unavailable)?;
        Ok(n > 0)
    }

    async fn adjust(&self, deltas: &[(SkuId, i64)]) -> Result<(), GateError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let mut inv = self.adjust.prepare_invoke();
        for (sku, d) in deltas {
            inv.key(self.sku_key(*sku)).arg(*d);
        }
        let _: i64 = self
            .conn
            .call(|mut c| async move { inv.invoke_async(&mut c).await })
            .await
            .map_err(GateError::Unavailable)?;
        Ok(())
    }

    async fn load(&self, levels: &[(SkuId, i64)], overwrite: bool) -> Result<(), GateError> {
        if levels.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (sku, n) in levels {
            let cmd = pipe.cmd("SET").arg(self.sku_key(*sku)).arg((*n).max(0));
            if !overwrite {
                cmd.arg("NX");
            }
            cmd.ignore();
        }
        self.conn
            .call(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await
            .map_err(GateError::Unavailable)
    }

    async fn available(&self, skus: &[SkuId]) -> Result<Vec<(SkuId, Option<i64>)>, GateError> {
        if skus.is_empty() {
            return Ok(vec![]);
        }
        let keys: Vec<String> = skus.iter().map(|s| self.sku_key(*s)).collect();
        let values: Vec<Option<i64>> = self
            .conn
            .call(|mut c| async move { redis::cmd("MGET").arg(keys).query_async(&mut c).await })
            .await
            .map_err(GateError::Unavailable)?;
        Ok(skus.iter().copied().zip(values).collect())
    }

    async fn rebuild(&self, levels: &[(SkuId, i64)]) -> Result<(), GateError> {
        self.delete_matching(format!("{}:hold:*", self.tag)).await?;
        self.delete_matching(format!("{}:sku:*", self.tag)).await?;
        self.load(levels, true).await
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_encoding_round_trips() {
        let items = vec![(SkuId::new(5).unwrap(), 2), (SkuId::new(12).unwrap(), 1)];
        assert_eq!(decode(&encode(&items)), items);
        assert!(decode("garbage").is_empty());
    }
}
