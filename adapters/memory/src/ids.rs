use shop_core::ports::IdGenerator;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// 2025-01-01T00:00:00Z: ids count milliseconds from here.
const EPOCH_MS: i64 = 1_735_689_600_000;
const NODE_BITS: u32 = 4;
const SEQ_BITS: u32 = 9;
const MAX_NODE: u16 = (1 << NODE_BITS) - 1;

/// Time-ordered unique ids that fit in 53 bits, so they are exact JSON numbers in JavaScript:
/// 40 bits of milliseconds since 2025 (good until 2059), 4 bits of node (one per process that
/// writes: `SHOP_NODE_ID` 0–15) and 9 bits of sequence (512 ids per millisecond per node).
///
/// The generator keeps a logical tick that never goes backwards: if the wall clock steps back
/// or a millisecond's sequence is used up, it runs ahead of the clock instead of repeating.
#[derive(Debug)]
pub struct SnowflakeIds {
    node: i64,
    /// `ms_since_epoch << SEQ_BITS | seq` of the last id handed out.
    last_tick: AtomicI64,
}

impl SnowflakeIds {
    /// `node` is 0–15; larger values are masked.
    pub fn new(node: u16) -> Self {
        SnowflakeIds {
            node: i64::from(node & MAX_NODE),
            last_tick: AtomicI64::new(0),
        }
    }

    fn wall_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
            - EPOCH_MS
    }
}

impl IdGenerator for SnowflakeIds {
    fn next_id(&self) -> i64 {
        let floor = Self::wall_ms().max(0) << SEQ_BITS;
        let mut prev = self.last_tick.load(Ordering::Relaxed);
        loop {
            let next = (prev + 1).max(floor);
            match self.last_tick.compare_exchange_weak(
                prev,
                next,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let ms = next >> SEQ_BITS;
                    let seq = next & ((1 << SEQ_BITS) - 1);
                    return (ms << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | seq;
                }
                Err(actual) => prev = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn ids_are_unique_increasing_and_json_safe() {
        let g = Arc::new(SnowflakeIds::new(3));
        let mut handles = vec![];
        for _ in 0..4 {
            let g = g.clone();
            handles.push(std::thread::spawn(move || {
                (0..20_000).map(|_| g.next_id()).collect::<Vec<_>>()
            }));
        }
        let mut all = HashSet::new();
        for h in handles {
            let ids = h.join().unwrap();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "ids from one thread increase"
            );
            for id in ids {
                assert!(
                    id > 0 && id < (1i64 << 53),
                    "{id} is not a safe JSON integer"
                );
                assert!(all.insert(id), "duplicate id {id}");
            }
        }
        assert_eq!(all.len(), 80_000);
    }

    #[test]
    fn nodes_do_not_collide() {
        let a = SnowflakeIds::new(1);
        let b = SnowflakeIds::new(2);
        let xs: HashSet<i64> = (0..5000).map(|_| a.next_id()).collect();
        assert!((0..5000).map(|_| b.next_id()).all(|id| !xs.contains(&id)));
    }
}
