//! Running a step of `spec.hooks` on the controller's machine: the program without a shell,
//! the run's facts in its environment, its output kept (the tail, for the journal and the
//! report), stopped when it outlives its timeout. The planner decides when (`plan/hooks.rs`);
//! this is the I/O.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How much of a hook's output is kept: its last lines are what says why it failed.
pub const OUTPUT_KEPT: usize = 2000;

/// What a hook did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub code: Option<i32>,
    pub took: Duration,
    /// The tail of its standard output and error, interleaved as written.
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("spec.hooks step has no program to run")]
    Empty,
    #[error("cannot start {program:?}: {source}")]
    Start {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{program:?} ran longer than its timeout ({}) and was stopped; output: {output}", humantime::format_duration(*.timeout))]
    TimedOut {
        program: String,
        timeout: Duration,
        output: String,
    },
    #[error("{program:?} exited with {}; output: {output}", code.map_or("a signal".to_string(), |c| format!("code {c}")))]
    Failed {
        program: String,
        code: Option<i32>,
        output: String,
    },
}

/// Runs `command` with `env` added to the controller's environment, waiting at most
/// `timeout`. Its output goes to one temporary file (no pipe to fill and block it).
///
/// # Errors
/// It could not start, exited with a code other than 0, or outlived its timeout.
pub fn run(
    command: &[String],
    env: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<Ran, HookError> {
    let (program, args) = command.split_first().ok_or(HookError::Empty)?;
    let mut out = tempfile::tempfile()?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out.try_clone()?)
        .spawn()
        .map_err(|source| HookError::Start {
            program: program.clone(),
            source,
        })?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= timeout {
            // Best effort: it may have ended in between.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = tail(&mut out)?;
    let Some(status) = status else {
        return Err(HookError::TimedOut {
            program: program.clone(),
            timeout,
            output,
        });
    };
    if !status.success() {
        return Err(HookError::Failed {
            program: program.clone(),
            code: status.code(),
            output,
        });
    }
    Ok(Ran {
        code: status.code(),
        took: started.elapsed(),
        output,
    })
}

fn tail(file: &mut std::fs::File) -> std::io::Result<String> {
    file.rewind()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let start = bytes.len().saturating_sub(OUTPUT_KEPT);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let text = text.trim();
    Ok(if text.is_empty() {
        "(none)".to_string()
    } else {
        text.to_string()
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn a_hook_should_see_the_facts_and_keep_its_output() {
        let env = BTreeMap::from([("GALAXY_HA_RUN".to_string(), "failover-1".to_string())]);
        let ran = run(
            &sh("echo run=$GALAXY_HA_RUN"),
            &env,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(ran.output, "run=failover-1");
        assert_eq!(ran.code, Some(0));
    }

    #[test]
    fn a_failing_or_slow_hook_should_be_an_error_with_its_output() {
        let env = BTreeMap::new();
        let err = run(&sh("echo no >&2; exit 3"), &env, Duration::from_secs(10)).unwrap_err();
        assert!(
            err.to_string().contains("exited with code 3; output: no"),
            "{err}"
        );
        let err = run(&sh("sleep 5"), &env, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, HookError::TimedOut { .. }), "{err}");
        let err = run(
            &["/nonexistent/hook".to_string()],
            &env,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("cannot start"), "{err}");
    }
}
