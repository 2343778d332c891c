//! What asks `run` to stop: Ctrl-C and SIGTERM on Unix; Ctrl-C, Ctrl-Break and closing the
//! console on Windows; and, for the Windows service, the Service Control Manager's stop and
//! shutdown requests. All of them end the same way: the step in progress finishes, exit 0.

use std::sync::LazyLock;

use tokio::sync::watch;

/// Set once a stop was requested from inside the process (the service control handler).
/// A watch value rather than a notification, so a request made before anyone waits is
/// not lost.
static REQUESTED: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::Sender::new(false));

/// Asks `run` to stop exactly as a signal would.
pub fn request() {
    REQUESTED.send_replace(true);
}

/// Completes on the first signal or [`request`].
pub async fn requested() {
    let mut asked = REQUESTED.subscribe();
    tokio::select! {
        () = signal() => tracing::info!("signal received"),
        _ = asked.wait_for(|stop| *stop) => tracing::info!("stop requested"),
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (systemd, `docker stop`).
#[cfg(unix)]
async fn signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM ({e}); stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Ctrl-C, Ctrl-Break, or the console window being closed (Windows then allows a few
/// seconds, enough for the grace period).
#[cfg(windows)]
async fn signal() {
    use tokio::signal::windows::{ctrl_break, ctrl_close};
    match (ctrl_break(), ctrl_close()) {
        (Ok(mut brk), Ok(mut close)) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = brk.recv() => {}
                _ = close.recv() => {}
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(
                "cannot listen for Ctrl-Break or the console closing ({e}); stop with Ctrl-C"
            );
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_made_before_anyone_waits_still_stops() {
        request();
        tokio::time::timeout(std::time::Duration::from_secs(5), requested())
            .await
            .expect("a stop requested earlier completes `requested` at once");
    }
}
