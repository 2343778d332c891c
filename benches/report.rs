//! Figures beside their targets, printed and written as the Markdown benchmark report.

use std::collections::HashMap;
use std::time::Duration;

/// One measured figure and the target it is held to.
pub struct Figure {
    pub what: String,
    pub value: String,
    /// The target in words (`< 1 s`); empty for a figure shown for context.
    pub target: String,
    /// Whether the figure meets its target; `None` without one.
    pub pass: Option<bool>,
}

impl Figure {
    /// A figure held to a target.
    pub fn held(what: &str, value: String, target: &str, pass: bool) -> Figure {
        Figure {
            what: what.into(),
            value,
            target: target.into(),
            pass: Some(pass),
        }
    }

    /// A figure shown for context.
    pub fn shown(what: &str, value: String) -> Figure {
        Figure {
            what: what.into(),
            value,
            target: String::new(),
            pass: None,
        }
    }

    fn verdict(&self) -> &'static str {
        match self.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "",
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.value)?;
        if !self.target.is_empty() {
            write!(f, " (target {}: {})", self.target, self.verdict())?;
        }
        Ok(())
    }
}

/// A duration as people read benchmark figures: µs, ms or s.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// What the machine is: CPU model and cores, for the report's header.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cpu}, {cores} core(s) available")
}

/// The figures of the report at `path` (the previous run's), by section and what.
pub fn previous(path: &std::path::Path) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    let Ok(old) = std::fs::read_to_string(path) else {
        return out;
    };
    let mut section = String::new();
    for line in old.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            section = name.trim().to_string();
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| what | figure | ...`: the cells between the outer bars.
        if let [_, what, figure, _, ..] = cells.as_slice()
            && !what.is_empty()
            && *what != "what"
            && !what.starts_with("---")
        {
            out.insert(
                (section.clone(), (*what).to_string()),
                (*figure).to_string(),
            );
        }
    }
    out
}

/// The report: a table per section, figure, the previous run's, target and verdict side by
/// side.
pub fn markdown(
    sections: &[(&str, Vec<Figure>)],
    took: Duration,
    before: &HashMap<(String, String), String>,
) -> String {
    let mut out = String::from(
        "# Benchmarks\n\n\
         Made by one command, in a release build:\n\n\
         ```\n\
         cargo bench --bench bench -- --report docs/benchmarks.md\n\
         ```\n\n",
    );
    out.push_str(&format!(
        "Last run: {} on {} ({} in all). Every figure is one run's; the targets are those the \
         issues set. The run exits 1 when a figure misses its target. The chaos figures come from \
         the same harness the test suite runs (300 schedules there, `GALAXY_HA_CHAOS_CASES` for \
         more) and `galaxy-ha sim chaos` runs from the command line. \"Previous run\" is the \
         figure this report held before this run (— for a new figure).\n\n\
         Shown by the test suite rather than measured here: the real binary killed with SIGKILL \
         at random moments of `apply --wait` and `run` (52 kills at least, `kill`), damaged state \
         (`damaged`), hostile manifests with the child's peak memory (`hostile`), and secrets \
         searched in every output, state file and delivered e-mail (`secrets`).\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
        machine(),
        human(took)
    ));
    let mut last = "";
    for (name, figures) in sections {
        if *name != last {
            out.push_str(&format!(
                "\n## {name}\n\n| what | figure | previous run | target | |\n|---|---|---|---|---|\n"
            ));
            last = name;
        }
        for f in figures {
            let what = f.what.replace('|', "/");
            let was = before
                .get(&((*name).to_string(), what.clone()))
                .map_or("—", String::as_str);
            out.push_str(&format!(
                "| {what} | {} | {was} | {} | {} |\n",
                f.value.replace('|', "/"),
                f.target.replace('<', "&lt;"),
                f.verdict()
            ));
        }
    }
    out
}

/// The heading of the on-demand soak's section: `galaxy-ha sim chaos --cases 100000` takes
/// hours of CPU, so it is run by hand and its figures written under this heading, which a
/// new report keeps as it is.
const SOAK: &str = "\n## The on-demand soak";

/// The soak's section of the report at `path`, or nothing.
pub fn kept_soak(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|old| old.find(SOAK).map(|i| old[i..].to_string()))
        .unwrap_or_default()
}
