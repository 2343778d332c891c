//! Rule 11: an action that failed is retried with capped exponential back-off, per action,
//! so a failing step never stops the others nor slows another site.

use std::time::Duration;

/// The first retry waits this long.
pub const FIRST_RETRY: Duration = Duration::from_secs(10);
/// No retry waits longer.
pub const MAX_RETRY: Duration = Duration::from_secs(600);

/// How long to wait before the `attempt`-th retry (1-based): 10 s, 20 s, 40 s … 10 min.
pub fn error_policy(attempt: u32) -> Duration {
    let shift = attempt.saturating_sub(1).min(16);
    FIRST_RETRY.saturating_mul(1u32 << shift).min(MAX_RETRY)
}
