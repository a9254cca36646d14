use shop_core::ports::Clock;
use shop_core::time::{Span, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_millis(ms)
    }
}

/// A clock that only moves when told to: tests advance time instead of sleeping.
#[derive(Debug)]
pub struct ManualClock {
    ms: AtomicI64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            ms: AtomicI64::new(start.millis()),
        }
    }

    /// Starts at the current wall-clock time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    pub fn advance(&self, by: Span) {
        self.ms.fetch_add(by.as_millis(), Ordering::SeqCst);
    }

    pub fn set(&self, to: Timestamp) {
        self.ms.store(to.millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_millis(1_000));
        assert_eq!(c.now().millis(), 1_000);
        c.advance(Span::minutes(30));
        assert_eq!(c.now().millis(), 1_000 + 1_800_000);
        c.set(Timestamp::from_millis(5));
        assert_eq!(c.now().millis(), 5);
        assert!(SystemClock.now().millis() > 1_700_000_000_000);
    }
}
