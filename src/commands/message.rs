//! An error as the command line prints it: each error of the chain once. Errors in this
//! program often name their cause in their own text as well as in their source (so that a
//! log line, which shows only the top, is complete); printed as a chain, that cause would
//! be said twice.

/// `err` and its causes, joined by ": ", each clause said once: a cause whose text is
/// already in the message is left out, and clauses a cause repeats at its start are dropped.
pub fn render(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        let mut rest = text.as_str();
        // "site hq: cannot observe: …" under a context "site hq" says "site hq" once.
        while let Some((clause, after)) = rest.split_once(": ") {
            if !out.split(": ").any(|c| c == clause) {
                break;
            }
            rest = after;
        }
        if rest.is_empty() || out.contains(rest) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot listen on 127.0.0.1:9: {0}")]
    struct Bind(#[source] std::io::Error);

    #[test]
    fn a_cause_named_in_its_error_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let text = render(&anyhow::Error::new(Bind(io)));
        assert_eq!(text.matches("address in use").count(), 1, "{text}");
    }

    #[test]
    fn a_clause_repeated_at_the_start_of_a_cause_is_dropped() {
        let err = anyhow::anyhow!("site hq: cannot observe: no such file").context("site hq");
        assert_eq!(render(&err), "site hq: cannot observe: no such file");
        let err = anyhow::anyhow!("root cause").context("outer");
        assert_eq!(render(&err), "outer: root cause");
    }
}
