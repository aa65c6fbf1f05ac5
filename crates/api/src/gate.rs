//! Admission to heavy work on the request path. The standalone face APIs decode images of up to
//! 40 MP and run inference on them; without a bound, a few API keys could exhaust memory and CPU.
//! A gate holds a fixed number of permits (one per CPU by default, as the document reader); a
//! call waits a bounded time for one and is then shed with 503 and `Retry-After` rather than
//! queued without bound.

use crate::error::ApiError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct ComputeGate {
    permits: Arc<Semaphore>,
    max_wait: Duration,
}

impl ComputeGate {
    /// `concurrency` 0 means one permit per CPU.
    pub fn new(concurrency: usize, max_wait: Duration) -> Self {
        let concurrency = match concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            max_wait,
        }
    }

    /// A permit, to be held (moved into the blocking task) until the work is done, so that a
    /// caller who goes away does not free a permit its work still uses.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(self.max_wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(ApiError::Internal(closed.into())),
            Err(_) => Err(ApiError::Overloaded {
                retry_after_seconds: self.max_wait.as_secs().max(1),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_sheds_after_the_wait_and_a_returned_permit_admits_again() {
        let gate = ComputeGate::new(1, Duration::from_millis(10));
        let held = gate.enter().await.unwrap();
        assert!(matches!(
            gate.enter().await,
            Err(ApiError::Overloaded {
                retry_after_seconds: 1
            })
        ));
        drop(held);
        assert!(gate.enter().await.is_ok());
    }
}
