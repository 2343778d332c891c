//! How the HTTP side listens without putting the controller at risk: a connection limit well
//! below the process's file-descriptor limit (the state dir, the journal and the hosts keep
//! the rest), a header-read timeout that also ends idle keep-alive connections, a cap on a
//! connection's whole life, and, off loopback, TLS and a bearer token.
//!
//! A client that opens thousands of connections and sends half a request must cost the
//! controller nothing but the connections over the limit being closed at once: a pass that
//! cannot open `memory.json` is a failover that does not happen.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::Args;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::HttpError;

/// A request's headers must arrive within this, and an idle keep-alive connection is closed
/// after it: a stalled client holds a connection no longer.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a connection lives, whatever it does (a client that never reads its answer).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// The most connections served at once, where the descriptor limit allows.
pub const MAX_CONNECTIONS: usize = 256;

/// How `run` serves HTTP off loopback: TLS with a certificate and key, and a bearer token;
/// or, knowingly, none of it.
#[derive(Debug, Clone, Default, Args)]
pub struct AccessArgs {
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require `Authorization: Bearer TOKEN` on every path but /healthz; TOKEN is this file's
    /// one line.
    #[arg(long, value_name = "FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// Listen on a non-loopback address without TLS or a token: anyone who reaches it reads
    /// the dashboard, status and metrics. Prefer a reverse proxy (docs/http.md).
    #[arg(long)]
    pub insecure_listen: bool,
    /// The most connections served at once [default: 256, or a quarter of the descriptor
    /// limit when that is smaller]; tests lower it.
    #[arg(long, hide = true, value_name = "N")]
    pub max_connections: Option<usize>,
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct Listen {
    pub addr: SocketAddr,
    pub access: AccessArgs,
}

/// A bound listener with everything read that serving needs.
pub struct Listener {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    token: Option<Arc<str>>,
    max_connections: usize,
}

/// Binds the address after checking that what it exposes is protected: off loopback it
/// needs TLS and a token, or `--insecure-listen`.
///
/// # Errors
/// The access is not protected enough, a TLS or token file is unusable, or the address
/// cannot be bound.
pub async fn bind(listen: &Listen) -> Result<Listener, HttpError> {
    let addr = listen.addr;
    let a = &listen.access;
    check(listen)?;
    let protected = is_protected(a);
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(acceptor(cert, key)?),
        _ => None,
    };
    let token = match &a.auth_token_file {
        Some(path) => Some(Arc::from(crate::secret_file::read(path).map_err(
            |source| HttpError::Token {
                path: path.clone(),
                source,
            },
        )?)),
        None => None,
    };
    let tcp = TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let local = tcp.local_addr().unwrap_or(addr);
    if !addr.ip().is_loopback() && !protected {
        tracing::warn!(
            %local,
            "listening on a non-loopback address without TLS and a token (--insecure-listen): anyone who can reach it reads the dashboard, status and metrics"
        );
    }
    let max_connections = a
        .max_connections
        .unwrap_or_else(default_max_connections)
        .max(1);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(max_connections, "dashboard on {scheme}://{local}/");
    Ok(Listener {
        tcp,
        tls,
        token,
        max_connections,
    })
}

fn is_protected(a: &AccessArgs) -> bool {
    a.tls_cert.is_some() && a.auth_token_file.is_some()
}

/// Whether what `listen` exposes is protected enough: loopback, or TLS and a token, or
/// `--insecure-listen`. `service install` asks before installing.
///
/// # Errors
/// [`HttpError::Unprotected`].
pub fn check(listen: &Listen) -> Result<(), HttpError> {
    let a = &listen.access;
    if !listen.addr.ip().is_loopback() && !is_protected(a) && !a.insecure_listen {
        return Err(HttpError::Unprotected { addr: listen.addr });
    }
    Ok(())
}

impl Listener {
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.tcp.local_addr().ok()
    }
}

/// [`MAX_CONNECTIONS`], or a quarter of the descriptor limit when that is smaller: three
/// quarters stay for the state dir, the journal, the manifests and the hosts.
fn default_max_connections() -> usize {
    descriptor_limit().map_or(MAX_CONNECTIONS, |limit| {
        MAX_CONNECTIONS.min(usize::try_from(limit / 4).unwrap_or(MAX_CONNECTIONS))
    })
}

/// The soft limit on open files, where the system says (Linux: `/proc/self/limits`).
fn descriptor_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, HttpError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |path: &Path, message: String| HttpError::Tls {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| tls(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls(cert, "holds no PEM certificate".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| tls(key, e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls(cert, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key_der)
    .map_err(|e| tls(key, format!("does not go with the certificate: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Refuses a request without the bearer token; /healthz stays open for liveness probes.
async fn authorize(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if same(given.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is required (Authorization: Bearer TOKEN)",
        )
            .into_response(),
    }
}

/// Compares in time that does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves `app` until `stop` turns true. Connections over the limit are closed as soon as
/// they are accepted; an accept that fails (no descriptor left) is retried after a pause
/// rather than in a loop.
pub async fn serve(listener: Listener, app: Router, mut stop: watch::Receiver<bool>) {
    let app = match &listener.token {
        Some(token) => app.layer(axum::middleware::from_fn_with_state(
            token.clone(),
            authorize,
        )),
        None => app,
    };
    let permits = Arc::new(Semaphore::new(listener.max_connections));
    let mut refused_logged = false;
    loop {
        let accepted = tokio::select! {
            a = listener.tcp.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("the HTTP side cannot accept a connection: {e}; retrying in 1s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if !refused_logged {
                tracing::warn!(
                    max = listener.max_connections,
                    "too many HTTP connections: closing new ones at once until some end"
                );
                refused_logged = true;
            }
            drop(stream);
            continue;
        };
        if permits.available_permits() > listener.max_connections / 2 {
            refused_logged = false;
        }
        let (app, tls, stop) = (app.clone(), listener.tls.clone(), stop.clone());
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                () = connection(stream, tls, app) => {}
                () = tokio::time::sleep(CONNECTION_LIFETIME) => {}
                _ = stopped(stop) => {}
            }
        });
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One connection: the TLS handshake (within the header timeout), then HTTP/1.1.
async fn connection(stream: tokio::net::TcpStream, tls: Option<TlsAcceptor>, app: Router) {
    let service = TowerToHyperService::new(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let result = match tls {
        Some(tls) => match tokio::time::timeout(HEADER_READ_TIMEOUT, tls.accept(stream)).await {
            Ok(Ok(stream)) => http.serve_connection(TokioIo::new(stream), service).await,
            _ => return,
        },
        None => http.serve_connection(TokioIo::new(stream), service).await,
    };
    if let Err(e) = result {
        tracing::debug!("HTTP connection ended: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_equal_only_when_equal() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }

    #[test]
    fn the_connection_limit_leaves_most_descriptors_to_the_controller() {
        let max = default_max_connections();
        assert!((1..=MAX_CONNECTIONS).contains(&max));
        if let Some(limit) = descriptor_limit() {
            assert!(max as u64 <= limit / 4 || max == 1, "{max} of {limit}");
        }
    }
}
