//! Helpers for the `run` tests: manifests, the real binary as a child process that is always
//! killed, a log to poll, and a loopback SMTP server (aiosmtpd) that writes messages to a dir.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A site manifest on the simulated lab; with `smtp_port`, e-mail to a loopback server.
pub fn manifest(name: &str, interval: &str, smtp_port: Option<u16>) -> String {
    let mut text = format!(
        "apiVersion: galaxy-ha/v1\nkind: RedundantServer\nmetadata:\n  name: {name}\nspec:\n  hosts:\n    - name: GCSHOSTA\n      address: 10.100.0.43\n    - name: GCSHOSTB\n      address: 10.100.0.44\n  primary: GCSHOSTA\n  vm:\n    name: GCSServer\n    address: 10.100.0.45\n  failover:\n    monitor:\n      interval: {interval}\n"
    );
    if let Some(port) = smtp_port {
        text.push_str(&format!(
            "  notifications:\n    email:\n      smtp:\n        server: 127.0.0.1\n        port: {port}\n        security: none\n      from: galaxy-ha@example.test\n      to: [ops@example.test, oncall@example.test]\n      subjectPrefix: \"[Galaxy HA test]\"\n      addEventDescription: true\n      include: [information, warning, error]\n      excludeEventIds: \"4000-4099,4112\"\n"
        ));
    }
    text
}

/// A TCP port nobody listens on now, and that no other test of this run is given.
///
/// Ports come from just below the kernel's ephemeral range, each handed out once, and never
/// from `bind(":0")`: a port the kernel picks is free again as soon as it is returned, so a
/// test that names a server's port long before the server starts (an SMTP outage) could
/// otherwise see another test's server bound to it, and its mail delivered there.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let low = ephemeral.saturating_sub(12_000).max(1024);
    let span = ephemeral - low;
    for _ in 0..span {
        let port = low + NEXT.fetch_add(1, Ordering::Relaxed) % span;
        if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free port in {low}..{ephemeral}");
}

/// A child process killed when dropped, so that a failing test leaves nothing behind.
pub struct Running {
    pub child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Sends SIGTERM and waits for the exit status, at most `limit`.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// `galaxy-ha run -m DIR --state-dir STATE ARGS…`, its log (debug) written to `log`; the
/// HTTP side on an ephemeral loopback port unless `args` say `--listen`, so that tests in
/// parallel do not fight over the default port.
pub fn start_run(dir: &Path, state: &Path, log: &Path, args: &[&str]) -> Running {
    let file = fs::File::create(log).expect("create log");
    let listen: &[&str] = if args.contains(&"--listen") {
        &[]
    } else {
        &["--listen", "127.0.0.1:0"]
    };
    let child = Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .arg("run")
        .arg("-m")
        .arg(dir)
        .arg("--state-dir")
        .arg(state)
        .args(listen)
        .args(args)
        .env("RUST_LOG", "warn,galaxy_ha=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .expect("start galaxy-ha run");
    Running { child }
}

/// Waits until the log has more than `after` lines containing every one of `needles`;
/// returns how many such lines there are then.
pub fn wait_for_log(log: &Path, needles: &[&str], after: usize, limit: Duration) -> usize {
    let start = Instant::now();
    loop {
        let count = count_log(log, needles);
        if count > after {
            return count;
        }
        if start.elapsed() > limit {
            panic!(
                "no new log line with {needles:?} within {limit:?}; log:\n{}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Lines of the log that contain every one of `needles`.
pub fn count_log(log: &Path, needles: &[&str]) -> usize {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
}

/// Writes a file the way an editor that saves through a temp file does: rename over it.
pub fn write_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("swp");
    fs::write(&tmp, text).expect("write temp");
    fs::rename(&tmp, path).expect("rename over");
}

/// A loopback SMTP server that stores each message in `dir`.
pub struct SmtpSink {
    pub dir: PathBuf,
    _process: Running,
}

impl SmtpSink {
    pub fn start(port: u16, dir: &Path) -> SmtpSink {
        Self::start_with(port, dir, None, None)
    }

    /// A sink that requires a login with these credentials (AUTH over the plain connection).
    pub fn start_with_login(port: u16, dir: &Path, user: &str, password: &str) -> SmtpSink {
        Self::start_with(port, dir, Some((user, password)), None)
    }

    /// A sink that requires STARTTLS with this certificate and key (PEM files), then a login.
    pub fn start_with_tls(
        port: u16,
        dir: &Path,
        login: (&str, &str),
        cert_and_key: (&Path, &Path),
    ) -> SmtpSink {
        Self::start_with(port, dir, Some(login), Some(cert_and_key))
    }

    fn start_with(
        port: u16,
        dir: &Path,
        login: Option<(&str, &str)>,
        tls: Option<(&Path, &Path)>,
    ) -> SmtpSink {
        fs::create_dir_all(dir).expect("mail dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut command = Command::new(crate::support::programs::python());
        if let Some((user, password)) = login {
            command
                .env("SMTP_SINK_USER", user)
                .env("SMTP_SINK_PASSWORD", password);
        }
        if let Some((cert, key)) = tls {
            command
                .env("SMTP_SINK_CERT", cert)
                .env("SMTP_SINK_KEY", key);
        }
        let mut child = command
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start: the Python it ran ({}) lacks aiosmtpd; run the tests with scripts/test, which installs it",
            crate::support::programs::python().display()
        );
        SmtpSink {
            dir: dir.to_path_buf(),
            _process: Running { child },
        }
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        messages(&self.dir)
    }
}

/// The `.eml` files of `dir`, oldest first.
pub fn messages(dir: &Path) -> Vec<String> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map(|e| e.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    paths.sort();
    paths
        .iter()
        .map(|p| fs::read_to_string(p).unwrap_or_default())
        .collect()
}

/// The value of a header of a raw message (unfolded).
pub fn header(message: &str, name: &str) -> Option<String> {
    let unfolded = message
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .replace("\n ", " ");
    unfolded
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
}

/// Files in `dir` (0 when it does not exist).
/// The letters in an outbox: its `.json` files. A letter is written to a temporary file
/// beside it and renamed, so counting every file would count a letter being written twice.
pub fn file_count(dir: &Path) -> usize {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// Polls `check` until it holds or `limit` passes.
pub fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A response of [`http_get`].
pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// `GET http://127.0.0.1:PORT/PATH` with HTTP/1.0 on a plain socket (no client library,
/// no redirects, no proxy), at most 10 s.
pub fn http_get(port: u16, path: &str) -> std::io::Result<Response> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end in {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    Ok(Response {
        status,
        headers: head.to_lowercase(),
        body: body.to_string(),
    })
}

/// Polls `/readyz` until it answers 200, at most `limit`.
pub fn wait_ready(port: u16, log: &Path, limit: Duration) {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < limit {
        match http_get(port, "/readyz") {
            Ok(r) if r.status == 200 => return,
            Ok(r) => last = format!("{} {}", r.status, r.body),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "/readyz not 200 within {limit:?} (last: {last}); log:\n{}",
        fs::read_to_string(log).unwrap_or_default()
    );
}

/// `GET /api/v1/status` as JSON.
pub fn api_status(port: u16) -> serde_json::Value {
    let r = http_get(port, "/api/v1/status").expect("GET /api/v1/status");
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("status JSON")
}

/// The guide's site on the lab with a 1 s monitor interval.
pub fn guide_manifest(mode: &str) -> String {
    crate::support::manifest_yaml(mode).replace(
        &format!("    mode: {mode}\n"),
        &format!("    mode: {mode}\n    monitor:\n      interval: 1s\n"),
    )
}

/// A controller on the lab of the guide's site, serving HTTP on a free loopback port.
pub struct Controller {
    pub tmp: tempfile::TempDir,
    pub port: u16,
    /// Killed when the controller is dropped.
    _run: Running,
}

impl Controller {
    /// Starts `run --listen 127.0.0.1:PORT --sim-speed SPEED` and waits for `/readyz`.
    pub fn start(mode: &str, speed: u32) -> Controller {
        Controller::start_with(mode, speed, "")
    }

    /// The same, with `spec` (lines of the manifest's `spec:`) added to the guide's site.
    pub fn start_with(mode: &str, speed: u32, spec: &str) -> Controller {
        Controller::start_manifest(&(guide_manifest(mode) + spec), speed)
    }

    /// The same, on this manifest of the site `hq`.
    pub fn start_manifest(manifest: &str, speed: u32) -> Controller {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("hq.yaml"), manifest).unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let speed = speed.to_string();
        let run = start_run(
            &dir,
            &tmp.path().join("s"),
            &tmp.path().join("log"),
            &["--listen", &listen, "--sim-speed", &speed],
        );
        let c = Controller {
            tmp,
            port,
            _run: run,
        };
        wait_ready(port, &c.log(), Duration::from_secs(20));
        c
    }

    pub fn log(&self) -> PathBuf {
        self.tmp.path().join("log")
    }

    /// Rewrites the manifest, as a merge would (the controller's watcher sees it).
    pub fn edit_manifest(&self, edit: impl FnOnce(String) -> String) {
        let path = self.tmp.path().join("m").join("hq.yaml");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, edit(text)).unwrap();
    }

    /// The controller's process.
    pub fn process(&mut self) -> &mut Running {
        &mut self._run
    }

    /// `galaxy-ha ARGS -m DIR --state-dir STATE` (sim verbs beside the running controller).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        cli_at(self.tmp.path(), args)
    }

    /// `galaxy-ha ARGS` as an alert writes it: no `-m`, run from another directory; only the
    /// state dir is known, as the service's default is on its machine.
    pub fn cli_as_alert(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
            .args(args)
            .env("GALAXY_HA_STATE_DIR", self.tmp.path().join("s"))
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    }

    /// Waits until the API's first site satisfies `check`; returns that site.
    pub fn wait_site(
        &self,
        what: &str,
        limit: Duration,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let doc = api_status(self.port);
            let site = doc["sites"][0].clone();
            if check(&site) {
                return site;
            }
            assert!(
                start.elapsed() < limit,
                "not within {limit:?}: {what}; site now: {site}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Takes a host down in the lab; repeated until the world file shows it, since a pass
    /// in progress may save over a fault written at the same moment.
    pub fn host_down(&self, host: &str) {
        self.set_host(host, false);
    }

    /// Brings a host back, as [`Controller::host_down`] takes it down.
    pub fn host_up(&self, host: &str) {
        self.set_host(host, true);
    }

    fn set_host(&self, host: &str, up: bool) {
        let fault = if up { "host-up" } else { "host-down" };
        let start = Instant::now();
        loop {
            let out = self.cli(&["sim", "fault", fault, host]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(300));
            let show = self.cli(&["sim", "show", "--format", "json"]);
            let doc: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
            let done = doc["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["name"] == host && h["up"] == up);
            if done {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{host}: {fault} not seen"
            );
        }
    }
}

/// `galaxy-ha ARGS -m ROOT/m --state-dir ROOT/s`: the layout every `run` rig keeps.
pub fn cli_at(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_galaxy-ha"))
        .args(args)
        .arg("-m")
        .arg(root.join("m"))
        .arg("--state-dir")
        .arg(root.join("s"))
        .output()
        .unwrap()
}
