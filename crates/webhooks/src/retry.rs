//! When to try a failed delivery again.

use rand::Rng;
use std::time::Duration;

/// How a scheduled delay is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the scheduled delay.
    None,
    /// "Full jitter": uniform in `[0, delay]`. Spreads retries after an outage the most.
    Full,
    /// Uniform in `[delay/2, delay]`: still spreads load, but guarantees at least half of every
    /// step, so the total retry window has a hard lower bound.
    Equal,
}

/// A list of delays between attempts: attempt 1 is the first delivery, attempt `n + 1` happens
/// `delays[n - 1]` (jittered) after attempt `n` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    jitter: Jitter,
    /// A receiver's `Retry-After` is honoured up to this much (so it cannot park an event forever).
    max_retry_after: Duration,
}

const MIN: u64 = 60;
const HOUR: u64 = 3600;

impl RetrySchedule {
    /// Didit's documented schedule: 3 attempts in total, ≈1 min after the first failure, then
    /// ≈4 min after that (spec §6.1). No jitter, so it matches Didit exactly.
    pub fn didit() -> Self {
        Self::new(
            vec![Duration::from_secs(MIN), Duration::from_secs(4 * MIN)],
            Jitter::None,
        )
    }

    /// Verity's longer schedule: 9 attempts over up to ~45 h (30 s, 2 m, 10 m, 30 m, 2 h, 6 h,
    /// 12 h, 24 h) with full jitter. It beats Didit's by surviving receiver outages of hours instead
    /// of 5 minutes, and jitter stops a recovering receiver from being hit by every backlog retry at
    /// once. Use `.with_jitter(Jitter::Equal)` to guarantee a window of at least ~22.8 h.
    pub fn extended() -> Self {
        Self::new(
            [
                30,
                2 * MIN,
                10 * MIN,
                30 * MIN,
                2 * HOUR,
                6 * HOUR,
                12 * HOUR,
                24 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            Jitter::Full,
        )
    }

    /// Any schedule; `delays.len() + 1` attempts in total.
    pub fn new(delays: Vec<Duration>, jitter: Jitter) -> Self {
        Self {
            delays,
            jitter,
            max_retry_after: Duration::from_secs(24 * HOUR),
        }
    }

    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// Attempts in total, the first delivery included.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// The delay before the next attempt after attempt number `attempt_no` (1-based) failed, or
    /// `None` when the schedule is exhausted. A receiver's `Retry-After` (capped by
    /// `max_retry_after`) is a lower bound on the delay: we never come back earlier than asked.
    pub fn next_delay<R: Rng + ?Sized>(
        &self,
        attempt_no: u32,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Option<Duration> {
        let base = *self.delays.get(attempt_no.checked_sub(1)? as usize)?;
        let jittered = match self.jitter {
            Jitter::None => base,
            Jitter::Full => rand_between(rng, Duration::ZERO, base),
            Jitter::Equal => rand_between(rng, base / 2, base),
        };
        let floor = retry_after
            .map(|r| r.min(self.max_retry_after))
            .unwrap_or_default();
        Some(jittered.max(floor))
    }

    /// [`Self::next_delay`] with the thread-local RNG.
    pub fn next_delay_random(
        &self,
        attempt_no: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        self.next_delay(attempt_no, retry_after, &mut rand::rng())
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::didit()
    }
}

fn rand_between<R: Rng + ?Sized>(rng: &mut R, lo: Duration, hi: Duration) -> Duration {
    let (lo, hi) = (lo.as_millis() as u64, hi.as_millis() as u64);
    if hi <= lo {
        return Duration::from_millis(hi);
    }
    Duration::from_millis(rng.random_range(lo..=hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn didit_schedule_is_exact_and_has_three_attempts() {
        let s = RetrySchedule::didit();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(s.max_attempts(), 3);
        assert_eq!(s.next_delay(0, None, &mut rng), None);
        assert_eq!(
            s.next_delay(1, None, &mut rng),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            s.next_delay(2, None, &mut rng),
            Some(Duration::from_secs(240))
        );
        assert_eq!(s.next_delay(3, None, &mut rng), None);
    }

    #[test]
    fn retry_after_is_a_capped_lower_bound() {
        let s = RetrySchedule::didit().with_max_retry_after(Duration::from_secs(600));
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            s.next_delay(1, Some(Duration::from_secs(5)), &mut rng),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            s.next_delay(1, Some(Duration::from_secs(120)), &mut rng),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            s.next_delay(1, Some(Duration::from_secs(99_999)), &mut rng),
            Some(Duration::from_secs(600))
        );
        // Retry-After never extends an exhausted schedule.
        assert_eq!(
            s.next_delay(3, Some(Duration::from_secs(1)), &mut rng),
            None
        );
    }

    #[test]
    fn extended_full_jitter_is_seeded_bounded_and_spread() {
        let s = RetrySchedule::extended();
        assert_eq!(s.max_attempts(), 9);
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (1..=9)
                .map(|n| s.next_delay(n, None, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7), "same seed, same delays");
        assert_ne!(run(7), run(8));
        let delays = run(7);
        assert_eq!(delays[8], None);
        for (d, base) in delays.iter().zip(s.delays()) {
            assert!(d.unwrap() <= *base);
        }
        // Full jitter spreads the first retry over [0, 30 s]: 1000 samples must not collapse.
        let mut rng = StdRng::seed_from_u64(42);
        let samples: Vec<u64> = (0..1000)
            .map(|_| s.next_delay(1, None, &mut rng).unwrap().as_millis() as u64)
            .collect();
        assert!(samples.iter().any(|&ms| ms < 10_000) && samples.iter().any(|&ms| ms > 20_000));
    }

    #[test]
    fn extended_beats_didit() {
        // Didit gives up 5 minutes after the first failure; Verity's schedule with equal jitter is
        // guaranteed to still be trying after a day, with three times as many attempts.
        let didit: Duration = RetrySchedule::didit().delays().iter().sum();
        let ext = RetrySchedule::extended().with_jitter(Jitter::Equal);
        let mut rng = StdRng::seed_from_u64(3);
        let total: Duration = (1..ext.max_attempts())
            .map(|n| ext.next_delay(n, None, &mut rng).unwrap())
            .sum();
        assert_eq!(didit, Duration::from_secs(300));
        assert!(total >= Duration::from_secs(22 * 3600), "{total:?}");
        assert!(ext.max_attempts() >= 3 * RetrySchedule::didit().max_attempts());
    }
}
