//! A latency model of running scripts on real hosts, for the lab's PowerShell runner
//! ([`super::SimRunner::with_latency`]): what each script would cost run in a process of its
//! own and in a warm session, so that the benchmark can compare the two without Windows.
//!
//! The figures are assumptions, stated in [`Latency::ASSUMED`] and in docs/powershell.md,
//! not measurements: nobody here can reach a Windows host. What a script does is counted
//! from its text ([`Profile::of`]), one cost per call site, not per call: a loop counts
//! once, and a branch that runs only sometimes (observe's port probe, only inside a drill's
//! isolated test replica; its heartbeat, only for a running VM) counts as if it always ran.
//! Comments, string literals and the commands that stay in the script's own process
//! (`ForEach-Object`, `ConvertTo-Json`, ...) cost nothing; Carbonite's cmdlets, written as
//! `names.rs` placeholders, count as the names they stand for.

use std::sync::LazyLock;
use std::time::Duration;

use super::names;
use super::scripts::{ScriptKind, script};
use crate::manifest::spec::SessionMode;

/// What each part of running a script costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// Starting `powershell.exe` (Windows PowerShell 5.1, `-NoProfile`).
    pub process_start: Duration,
    /// Opening a WinRM session to the host (`Invoke-Command -ComputerName` or
    /// `New-PSSession`): authentication and a remote shell.
    pub remote_session: Duration,
    /// `Import-Module` of the DoubleTake module: loading its .NET assemblies.
    pub module_import: Duration,
    /// `New-DtServer`: connecting to one Double-Take server.
    pub dt_connect: Duration,
    /// Opening a session in the System Galaxy guest (PowerShell Direct, or WinRM on 2012 R2).
    pub guest_session: Duration,
    /// One cmdlet call once everything is open.
    pub per_cmdlet: Duration,
    /// A warm session's own cost per script: the request and reply lines, the script file.
    pub per_request: Duration,
}

impl Latency {
    /// The assumed figures: a 1 GbE LAN, Kerberos, hosts that are not busy.
    pub const ASSUMED: Latency = Latency {
        process_start: Duration::from_millis(800),
        remote_session: Duration::from_millis(600),
        module_import: Duration::from_millis(1500),
        dt_connect: Duration::from_millis(300),
        guest_session: Duration::from_millis(1000),
        per_cmdlet: Duration::from_millis(40),
        per_request: Duration::from_millis(10),
    };

    /// What running a script of `kind` costs. `warm` is the session it runs in, when it runs
    /// in one: what that session has already opened is not paid again.
    pub fn cost(&self, kind: ScriptKind, warm: Option<&mut Opened>) -> Duration {
        let p = Profile::of(kind);
        let calls = self.per_cmdlet * p.cmdlets;
        let Some(opened) = warm else {
            return self.opening(kind) + calls;
        };
        let mut cost = self.per_request + calls;
        if !opened.process {
            cost += self.process_start + self.remote_session;
            opened.process = true;
        }
        if p.double_take && !opened.module {
            cost += self.module_import;
            opened.module = true;
        }
        // Each script's connections are to the host and the guest: the first script that
        // makes them pays, as many as it makes.
        if p.connects > opened.connects {
            cost += self.dt_connect * (p.connects - opened.connects);
            opened.connects = p.connects;
        }
        if p.guest && !opened.guest {
            cost += self.guest_session;
            opened.guest = true;
        }
        cost
    }

    /// What a script of `kind` run alone pays before its first call: the process, the
    /// remote session, the module, its connections, the guest's session. A warm session pays
    /// it once.
    pub fn opening(&self, kind: ScriptKind) -> Duration {
        let p = Profile::of(kind);
        self.process_start
            + self.remote_session
            + if p.double_take {
                self.module_import
            } else {
                Duration::ZERO
            }
            + self.dt_connect * p.connects
            + if p.guest {
                self.guest_session
            } else {
                Duration::ZERO
            }
    }

    /// [`Latency::cost`] by the runner's mode.
    pub fn cost_in(&self, kind: ScriptKind, mode: SessionMode, opened: &mut Opened) -> Duration {
        match mode {
            SessionMode::PerScript => self.cost(kind, None),
            SessionMode::Warm => self.cost(kind, Some(opened)),
        }
    }
}

/// What a warm session has opened so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Opened {
    process: bool,
    module: bool,
    connects: u32,
    guest: bool,
}

/// What a script does, counted from its body's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Call sites of cmdlets and of the helpers that wrap one (`Verb-Noun` words in code,
    /// not in comments or strings), but for those that reach no system ([`LOCAL`]).
    pub cmdlets: u32,
    /// `New-DtServer` connections (`Connect-DoubleTake`, `Connect-Guest`).
    pub connects: u32,
    /// Whether it loads the DoubleTake module.
    pub double_take: bool,
    /// Whether it reaches into the System Galaxy guest.
    pub guest: bool,
}

/// Each script's profile, counted once: the lab's runner charges one per script it runs.
static PROFILES: LazyLock<Vec<(ScriptKind, Profile)>> = LazyLock::new(|| {
    ScriptKind::all()
        .into_iter()
        .map(|k| (k, Profile::count(k)))
        .collect()
});

impl Profile {
    /// The profile of the script a `kind` runs (a test failover's is the failover script's).
    pub fn of(kind: ScriptKind) -> Profile {
        let kind = script(kind).kind;
        PROFILES
            .iter()
            .find_map(|(k, p)| (*k == kind).then_some(*p))
            .unwrap_or_else(|| Profile::count(kind))
    }

    fn count(kind: ScriptKind) -> Profile {
        Profile::of_text(&names::expand(kind.body()))
    }

    /// The profile of a script body whose Carbonite names are expanded: its `Verb-Noun`
    /// words outside comments and string literals (`'Hyper-V'` and an error message naming
    /// a cmdlet call nothing).
    fn of_text(body: &str) -> Profile {
        let code = code_only(body);
        let words: Vec<&str> = code
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| is_command(w) && !LOCAL.contains(w))
            .collect();
        let count = |names: &[&str]| {
            u32::try_from(words.iter().filter(|w| names.contains(w)).count()).unwrap_or(u32::MAX)
        };
        Profile {
            cmdlets: u32::try_from(words.len()).unwrap_or(u32::MAX),
            connects: count(&["Connect-DoubleTake", "Connect-Guest"]),
            double_take: count(&["Import-DoubleTake"]) > 0,
            guest: count(&["Invoke-InGuest", "Invoke-InRunningGuest"]) > 0,
        }
    }
}

/// Commands that work on what the script already holds, in its own process, and reach no
/// system: they cost nothing here beside a call that does.
const LOCAL: &[&str] = &[
    "ForEach-Object",
    "Where-Object",
    "Select-Object",
    "Sort-Object",
    "New-Object",
    "ConvertTo-Json",
    "ConvertFrom-Json",
    "Split-Path",
    "Join-Path",
    // doctor's own function that records a check's result.
    "Add-Check",
];

/// `text` with its comments (`# ...`, `<# ... #>`) and string literals (`'...'`, `"..."`)
/// blanked, lines kept. A `$(...)` inside a double-quoted string is blanked too: the scripts
/// call nothing there.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while let Some(c) = chars.next() {
        match c {
            '<' if chars.peek() == Some(&'#') => {
                out.push(' ');
                let mut last = ' ';
                for c in chars.by_ref() {
                    out.push(blank(c));
                    if last == '#' && c == '>' {
                        break;
                    }
                    last = c;
                }
            }
            '#' => {
                out.push(' ');
                while let Some(&c) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    out.push(' ');
                    chars.next();
                }
            }
            '\'' | '"' => {
                let quote = c;
                out.push(' ');
                while let Some(c) = chars.next() {
                    out.push(blank(c));
                    if quote == '"' && c == '`' {
                        if let Some(escaped) = chars.next() {
                            out.push(blank(escaped));
                        }
                    } else if c == quote {
                        // A doubled quote is one quote inside the string.
                        if chars.peek() == Some(&quote) {
                            chars.next();
                            out.push(' ');
                        } else {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `Verb-Noun`: a capitalised word, a hyphen, a capitalised word.
fn is_command(word: &str) -> bool {
    let Some((verb, noun)) = word.split_once('-') else {
        return false;
    };
    let capital = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_alphanumeric())
    };
    verb.len() > 1 && capital(verb) && capital(noun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionKind;

    #[test]
    fn the_profile_counts_what_a_script_calls() {
        let observe = Profile::of(ScriptKind::Observe);
        assert!(observe.cmdlets >= 10, "{observe:?}");
        assert!(observe.double_take && observe.guest, "{observe:?}");
        assert!(observe.connects >= 1, "{observe:?}");
        let stop = Profile::of(ScriptKind::Act(ActionKind::StopVm));
        assert!(!stop.double_take && stop.connects == 0, "{stop:?}");
        assert!(is_command("Get-DtJob") && is_command("New-PSSession"));
        assert!(!is_command("-Name") && !is_command("a-b") && !is_command("Get-"));
    }

    #[test]
    fn the_profile_counts_call_sites_in_code_only() {
        // Carbonite's placeholders count as their cmdlets; comments, strings and commands
        // that stay in the process do not.
        let p = Profile::of_text(&names::expand(
            "# Get-VM lists them\n$all = @(%%GET_DT_JOB%% -ServiceHost $server | Where-Object { $_ })\n$system = 'Hyper-V'\nthrow \"Get-DtJob listed no job\"\n<# Get-VHD\n Get-VM #>\n$x = 'it''s Get-VM'\n$json = ConvertTo-Json -InputObject $all",
        ));
        assert_eq!(p.cmdlets, 1, "{p:?}");
        // A call site, not a call: a loop counts once, a branch as if it ran.
        let p = Profile::of_text(
            "foreach ($vm in @(Get-VM)) {\n    if ($isolated) { Invoke-InGuest -VmName $vm.Name }\n    $d = Get-VHD -Path $disks\n}",
        );
        assert_eq!((p.cmdlets, p.guest), (3, true), "{p:?}");
        // Observe's Carbonite cmdlets are counted, through the names table.
        let observe = names::expand(ScriptKind::Observe.body());
        for cmdlet in ["Get-DtJob", "Get-DtSnapshot", "Get-DtActivationStatus"] {
            assert!(code_only(&observe).contains(cmdlet), "{cmdlet}");
        }
        // Blanked, not removed: lines and columns stay where they were.
        assert_eq!(
            code_only("a 'b' \"c`\"d\" # e\nf"),
            format!("a{}\nf", " ".repeat(15))
        );
    }

    #[test]
    fn a_warm_session_pays_for_opening_once() {
        let l = Latency::ASSUMED;
        for kind in ScriptKind::all() {
            let p = Profile::of(kind);
            let alone = l.cost(kind, None);
            let mut opened = Opened::default();
            let first = l.cost(kind, Some(&mut opened));
            let next = l.cost(kind, Some(&mut opened));
            assert_eq!(
                first,
                alone + l.per_request,
                "{kind:?}: the first pays what a process pays"
            );
            // After it, the script pays for its calls only, whatever their number: what the
            // session saves is exactly what opening costs.
            let calls = l.per_cmdlet * p.cmdlets;
            assert_eq!(next, l.per_request + calls, "{kind:?}");
            // Opening, counted by hand: the process, the session, the module, each
            // connection, the guest.
            let mut opening = l.process_start + l.remote_session + l.dt_connect * p.connects;
            if p.double_take {
                opening += l.module_import;
            }
            if p.guest {
                opening += l.guest_session;
            }
            assert_eq!(alone - calls, opening, "{kind:?}");
            assert_eq!(l.opening(kind), opening, "{kind:?}");
        }
        // Observe runs on every host every pass: warm, it costs at most a third of a
        // process of its own, the benchmark's criterion for an observe pass
        // (docs/benchmarks.md). Counted by call site, it is charged even for branches that
        // do not run every pass (the port probe of a drill's test replica): a pass costs
        // less still.
        let kind = ScriptKind::Observe;
        let alone = l.cost(kind, None);
        let mut opened = Opened::default();
        l.cost(kind, Some(&mut opened));
        let next = l.cost(kind, Some(&mut opened));
        assert!(next * 3 <= alone, "{next:?} against {alone:?}");
    }
}
