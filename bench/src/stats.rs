//! Latency and outcome recording: every measured request lands here, per task, and the
//! per-task recorders are merged once at the end (no lock on the hot path).

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default, Clone)]
pub struct Recorder {
    /// Microseconds of every measured request.
    latencies: Vec<u64>,
    /// `201`, `409 OUT_OF_STOCK`, `network`, … → count.
    outcomes: BTreeMap<String, u64>,
    /// The same microseconds, by answer (a flash sale's 100 orders and 9,900 refusals have
    /// very different paths).
    by_outcome: BTreeMap<String, Vec<u64>>,
}

impl Recorder {
    pub fn record(&mut self, started: Instant, outcome: impl Into<String>) {
        let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let outcome = outcome.into();
        self.latencies.push(us);
        self.by_outcome.entry(outcome.clone()).or_default().push(us);
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    pub fn merge(&mut self, other: Recorder) {
        self.latencies.extend(other.latencies);
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        for (k, v) in other.by_outcome {
            self.by_outcome.entry(k).or_default().extend(v);
        }
    }

    pub fn count(&self, outcome: &str) -> u64 {
        self.outcomes.get(outcome).copied().unwrap_or(0)
    }

    pub fn summary(mut self, elapsed: Duration) -> Summary {
        let n = self.latencies.len();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let all = Latency::of(&mut self.latencies);
        Summary {
            requests: n as u64,
            seconds: (secs * 1000.0).round() / 1000.0,
            per_second: (n as f64 / secs).round(),
            p50_ms: all.p50_ms,
            p90_ms: all.p90_ms,
            p99_ms: all.p99_ms,
            max_ms: all.max_ms,
            outcomes: self.outcomes,
            latency_by_answer: self
                .by_outcome
                .into_iter()
                .map(|(k, mut v)| (k, Latency::of(&mut v)))
                .collect(),
        }
    }
}

/// Nearest-rank percentiles of one set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(micros: &mut [u64]) -> Latency {
        micros.sort_unstable();
        let n = micros.len();
        let pct = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let rank = ((p / 100.0) * n as f64).ceil() as usize;
            micros[rank.clamp(1, n) - 1] as f64 / 1000.0
        };
        Latency {
            p50_ms: pct(50.0),
            p90_ms: pct(90.0),
            p99_ms: pct(99.0),
            max_ms: micros.last().map_or(0.0, |m| *m as f64 / 1000.0),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Answers by status (and error code): `201`, `409 OUT_OF_STOCK`, `network` …
    pub outcomes: BTreeMap<String, u64>,
    /// Latency of each kind of answer.
    pub latency_by_answer: BTreeMap<String, Latency>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "  {} requests in {:.2} s = {:.0}/s",
            self.requests, self.seconds, self.per_second
        )?;
        writeln!(
            f,
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )?;
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        write!(f, "  answers: {}", outcomes.join(", "))?;
        if self.latency_by_answer.len() > 1 {
            for (answer, l) in &self.latency_by_answer {
                write!(
                    f,
                    "\n  latency ms of {answer}: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
                    l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let r = Recorder {
            latencies: (1..=100).rev().map(|ms| ms * 1000).collect(),
            outcomes: [("200".to_string(), 100)].into(),
            by_outcome: BTreeMap::new(),
        };
        let s = r.summary(Duration::from_secs(2));
        assert_eq!(
            (s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(s.per_second, 50.0);
    }

    #[test]
    fn latency_is_also_kept_per_answer() {
        let mut r = Recorder::default();
        let long_ago = Instant::now() - Duration::from_millis(40);
        r.record(long_ago, "201");
        r.record(Instant::now(), "409 OUT_OF_STOCK");
        r.record(Instant::now(), "409 OUT_OF_STOCK");
        let s = r.summary(Duration::from_secs(1));
        let fast = s.latency_by_answer["409 OUT_OF_STOCK"];
        let slow = s.latency_by_answer["201"];
        assert!(slow.p50_ms >= 40.0, "{slow:?}");
        assert!(fast.max_ms < slow.p50_ms, "{fast:?} {slow:?}");
        assert_eq!(s.to_string().matches("latency ms of").count(), 2);
    }

    #[test]
    fn merging_adds_outcomes() {
        let mut a = Recorder::default();
        a.record(Instant::now(), "201");
        let mut b = Recorder::default();
        b.record(Instant::now(), "201");
        b.record(Instant::now(), "409 OUT_OF_STOCK");
        a.merge(b);
        assert_eq!((a.count("201"), a.count("409 OUT_OF_STOCK")), (2, 1));
    }
}
