//! A watchdog for tests whose code would run forever if what they test
//! (fuel, epoch interruption, a pool handing slots back) broke: the test
//! fails within a bounded time instead of hanging the suite.
//!
//! Include it with `#[path = "common/watchdog.rs"] mod watchdog;` (it is
//! not part of `common/mod.rs`, so test files that do not use it get no
//! dead-code warnings).

use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// Runs `work` on a new thread and returns its result, failing (panicking
/// on the calling thread, i.e. failing the test) if it has not finished
/// within `limit`. A panic in `work` is passed on.
///
/// A thread stuck in a wasm loop cannot be killed: on timeout it is left
/// running, and the test harness ends it when the process exits.
pub fn within<R: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> R + Send + 'static,
) -> R {
    within_or_rescue(what, limit, work, || {})
}

/// Like [`within`], but on timeout first calls `rescue` (e.g. to increment
/// the engine's epoch so that an interruptible stuck thread stops using a
/// core) before failing.
pub fn within_or_rescue<R: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> R + Send + 'static,
    rescue: impl FnOnce(),
) -> R {
    let (done, finished) = channel();
    let worker = std::thread::Builder::new()
        .name(format!("watched: {what}"))
        .spawn(move || {
            let result = work();
            // The receiver is gone only after a timeout, which already
            // failed the test.
            let _ = done.send(result);
        })
        .expect("spawn the watched thread");
    match finished.recv_timeout(limit) {
        Ok(result) => {
            worker.join().expect("the watched thread finished");
            result
        }
        // The sender was dropped without sending: `work` panicked.
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the watched thread ended without a result"),
        },
        Err(RecvTimeoutError::Timeout) => {
            rescue();
            panic!("watchdog: {what} did not finish within {limit:?} (it would have hung)");
        }
    }
}
