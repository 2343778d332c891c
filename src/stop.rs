//! What asks `run` to stop: Ctrl-C, SIGTERM and SIGQUIT on Unix; Ctrl-C, Ctrl-Break and
//! closing the console on Windows; and, for the Windows service, the Service Control
//! Manager's stop and shutdown requests. All of them end the same way: the step in progress
//! finishes, exit 0. SIGHUP asks for the manifests to be read again, as services expect of
//! it ([`Hangups`]); SIGUSR1, SIGUSR2 and SIGALRM, whose default would end the process
//! without that clean stop, are logged and ignored.

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

/// SIGINT (Ctrl-C), SIGTERM (systemd, `docker stop`) or SIGQUIT; meanwhile the signals that
/// ask nothing of `run` are ignored.
#[cfg(unix)]
async fn signal() {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let mut ignored: Vec<(&str, Signal)> = [
        ("SIGUSR1", SignalKind::user_defined1()),
        ("SIGUSR2", SignalKind::user_defined2()),
        ("SIGALRM", SignalKind::alarm()),
    ]
    .into_iter()
    .filter_map(|(name, kind)| match signal(kind) {
        Ok(s) => Some((name, s)),
        Err(e) => {
            tracing::warn!("cannot listen for {name} ({e}); it would end the process");
            None
        }
    })
    .collect();
    let ignore = async {
        loop {
            let next = ignored
                .iter_mut()
                .map(|(name, s)| Box::pin(async move { s.recv().await.map(|_| *name) }));
            match futures_util::future::select_all(next).await {
                (Some(name), _, _) => tracing::info!("{name} received: ignored"),
                (None, _, _) => std::future::pending::<()>().await,
            }
        }
    };
    let (term, quit) = (signal(SignalKind::terminate()), signal(SignalKind::quit()));
    match (term, quit) {
        (Ok(mut term), Ok(mut quit)) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = quit.recv() => {}
                () = ignore => {}
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!("cannot listen for SIGTERM or SIGQUIT ({e}); stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// SIGHUP, as a stream of requests to read the manifests again. Once made, SIGHUP no longer
/// ends the process (a closed terminal or SSH session sends it).
pub struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    /// Starts catching SIGHUP; must be called inside the runtime. Where there is no SIGHUP
    /// (Windows), or it cannot be caught, no request ever comes.
    pub fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .inspect_err(|e| tracing::warn!("cannot listen for SIGHUP ({e})"))
                .ok();
            Hangups { signal }
        }
        #[cfg(not(unix))]
        Hangups {}
    }

    /// Completes at the next SIGHUP.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal
            && s.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await;
    }
}

impl Default for Hangups {
    fn default() -> Self {
        Self::new()
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
