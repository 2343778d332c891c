//! Asking a person before a change: on a terminal only, and never by default.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;

/// Returns whether to go ahead: `--yes`, or "yes" typed at a terminal.
///
/// # Errors
/// Standard input is not a terminal and `--yes` was not given.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to act without confirmation: standard input is not a terminal; pass --yes to confirm"
        );
    }
    eprint!("{question} Only 'yes' will be accepted: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
