//! Per-stage and per-route throttling: a token bucket of `burst` tokens refilled at `rate`
//! tokens per second, as API Gateway describes its limits.

use std::sync::Mutex;
use std::time::Instant;

/// One token bucket.
#[derive(Debug)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    /// `None` when the settings do not limit anything.
    pub fn new(rate: Option<f64>, burst: Option<i64>) -> Option<Bucket> {
        if rate.is_none() && burst.is_none() {
            return None;
        }
        let rate = rate.unwrap_or(f64::MAX).max(0.0);
        let burst = burst.map(|b| b.max(0) as f64).unwrap_or(rate.max(1.0));
        Some(Bucket {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        })
    }

    /// Takes one token; `false` when the request must be throttled.
    pub fn try_take(&self) -> bool {
        self.try_take_at(Instant::now())
    }

    fn try_take_at(&self, now: Instant) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return true;
        };
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let tokens = (tokens + elapsed * self.rate).min(self.burst);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate() {
        let b = Bucket::new(Some(2.0), Some(3)).expect("limited");
        let t0 = Instant::now();
        assert!(b.try_take_at(t0));
        assert!(b.try_take_at(t0));
        assert!(b.try_take_at(t0));
        assert!(!b.try_take_at(t0));
        assert!(b.try_take_at(t0 + Duration::from_millis(500)));
        assert!(!b.try_take_at(t0 + Duration::from_millis(500)));
        assert!(Bucket::new(None, None).is_none());
        let zero = Bucket::new(Some(0.0), Some(0)).expect("limited");
        assert!(!zero.try_take_at(t0));
    }
}
