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

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
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
        fs::create_dir_all(dir).expect("mail dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        // Debian's python3-aiosmtpd lives beside the system interpreter.
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink (python3-aiosmtpd)");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (is python3-aiosmtpd installed?)"
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
pub fn file_count(dir: &Path) -> usize {
    fs::read_dir(dir).map(|e| e.count()).unwrap_or(0)
}

/// Polls `check` until it holds or `limit` passes.
pub fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
