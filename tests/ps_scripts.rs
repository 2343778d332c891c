//! Every generated script, and the warm session's host: parsed by a real PowerShell grammar,
//! free of PowerShell 7-only syntax and typographic quotes, constant whatever the data, and
//! snapshotted.

use galaxy_ha::platform::powershell::names;
use galaxy_ha::platform::powershell::scripts::{ScriptKind, script};
use galaxy_ha::platform::powershell::session::SESSION_HOST;
use tree_sitter::{Node, Parser};

/// Every PowerShell text galaxy-ha runs, by name: the scripts and the session host.
fn texts() -> Vec<(&'static str, String)> {
    ScriptKind::all()
        .into_iter()
        .map(|k| (k.as_str(), script(k).text.clone()))
        .chain([("session host", SESSION_HOST.to_string())])
        .collect()
}

fn parse(text: &str) -> tree_sitter::Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    parser.parse(text, None).expect("the parser returns a tree")
}

/// The first node in error, with its line and the text around it.
fn first_error(node: Node, text: &str) -> Option<String> {
    if node.is_error() || node.is_missing() {
        let p = node.start_position();
        let line = text.lines().nth(p.row).unwrap_or("");
        return Some(format!(
            "line {}: {:?} near {line:?}",
            p.row + 1,
            node.kind()
        ));
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if child.has_error()
            && let Some(e) = first_error(child, text)
        {
            return Some(e);
        }
    }
    None
}

/// Tokens of a kind the grammar names, e.g. `&&`.
fn tokens(node: Node, out: &mut Vec<String>) {
    if node.child_count() == 0 {
        out.push(node.kind().to_string());
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        tokens(child, out);
    }
}

#[test]
fn every_script_should_parse_without_errors() {
    let errors: Vec<String> = texts()
        .iter()
        .filter_map(|(name, text)| {
            let tree = parse(text);
            tree.root_node().has_error().then(|| {
                format!(
                    "{name}: {}",
                    first_error(tree.root_node(), text).unwrap_or_default()
                )
            })
        })
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn no_script_should_use_powershell_7_syntax_or_typographic_quotes() {
    for (name, text) in texts() {
        let mut toks = Vec::new();
        tokens(parse(&text).root_node(), &mut toks);
        for bad in ["&&", "||", "??", "?", "??="] {
            assert!(
                !toks.iter().any(|t| t == bad),
                "{name}: uses PowerShell 7-only `{bad}`"
            );
        }
        for q in ['\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{201e}'] {
            assert!(!text.contains(q), "{name}: typographic quote {q}");
        }
        assert!(
            text.is_ascii(),
            "{name}: only ASCII survives 5.1's code pages"
        );
        // Forms the grammar misreads, kept out so that its verdict can be trusted.
        assert!(!text.contains(".ForEach("), "{name}");
        assert!(!text.contains("break :"), "{name}");
        // `::new(` is PowerShell 5.0's; New-Object reads the same on every version.
        assert!(!text.contains("]::new("), "{name}");
        for unit in ["KB", "MB", "GB", "TB"] {
            let suffixed = text
                .as_bytes()
                .windows(3)
                .any(|w| w[0].is_ascii_digit() && w[1..] == *unit.as_bytes());
            assert!(!suffixed, "{name}: upper-case size suffix {unit}");
        }
    }
}

#[test]
fn every_placeholder_should_be_expanded_and_every_name_used() {
    let all: String = ScriptKind::all()
        .iter()
        .map(|k| script(*k).text.clone())
        .collect();
    for kind in ScriptKind::all() {
        assert!(!script(kind).text.contains("%%"), "{}", kind.as_str());
    }
    for n in names::NAMES {
        assert!(
            all.contains(n.value),
            "name {} ({}) is not used by any script",
            n.key,
            n.value
        );
    }
}

#[test]
fn scripts_should_read_their_data_from_standard_input_only() {
    for kind in ScriptKind::all() {
        let s = &script(kind).text;
        assert!(
            s.contains("[Console]::In.ReadToEnd() | ConvertFrom-Json"),
            "{}",
            kind.as_str()
        );
        assert!(
            !s.contains("$args"),
            "{}: data only through $in",
            kind.as_str()
        );
        assert!(
            !s.contains("Invoke-Expression"),
            "{}: no code from data",
            kind.as_str()
        );
    }
}

#[test]
fn scripts_should_match_their_snapshots() {
    for kind in ScriptKind::all() {
        insta::assert_snapshot!(format!("ps-script-{}", kind.as_str()), script(kind).text);
    }
    insta::assert_snapshot!("ps-session-host", SESSION_HOST);
}

#[test]
fn in_a_warm_session_a_script_should_leave_its_exit_code_instead_of_ending_the_session() {
    for kind in ScriptKind::all() {
        let text = &script(kind).text;
        // The only `exit` is the last line, reached only outside a session.
        let exits: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("exit"))
            .collect();
        assert_eq!(exits, ["exit $code"], "{}", kind.as_str());
        let warm = text.find("$warm.ExitCode = $code").expect("warm branch");
        let exit = text.rfind("exit $code").expect("exit");
        assert!(warm < exit, "{}", kind.as_str());
    }
    assert!(SESSION_HOST.contains("$galaxyHaWarm = @{"));
    assert!(SESSION_HOST.contains("$galaxyHaCode = $galaxyHaWarm.ExitCode"));
}

#[test]
fn in_a_warm_session_a_script_should_keep_its_double_take_connections_for_the_next() {
    // Every script disconnects its servers when it is done; in a warm session that would
    // leave the kept connections closed for the next script. Only the helper disconnects,
    // and not in a warm session.
    let helper = "function Disconnect-DoubleTake {\n    param([DoubleTake.PowerShell.Server]$Server)\n    if ($keep) { return }\n    Disconnect-DtServer -ServiceHost $Server\n}";
    for kind in ScriptKind::all() {
        let text = &script(kind).text;
        assert!(text.contains(helper), "{}", kind.as_str());
        assert_eq!(
            text.matches("Disconnect-DtServer").count(),
            1,
            "{}: a server disconnected outside Disconnect-DoubleTake",
            kind.as_str()
        );
        assert!(
            text.contains("param($in, $cred, $guestCred, $keep)"),
            "{}",
            kind.as_str()
        );
        assert!(
            text.contains("ArgumentList = @($envelope.input, $cred, $guestCred, $keep)")
                && text.contains("& $body $envelope.input $cred $guestCred $keep"),
            "{}",
            kind.as_str()
        );
    }
}

/// The lines of `text` that hold `what`, trimmed.
fn lines_with<'a>(text: &'a str, what: &str) -> Vec<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.contains(what))
        .collect()
}

#[test]
fn observe_should_reach_an_isolated_test_replica_through_powershell_direct_only() {
    let text = &script(ScriptKind::Observe).text;
    // The helper: PowerShell Direct where there is one; otherwise, direct-only, an error
    // before WinRM to the guest's address (the live System Galaxy VM's) is ever tried.
    let helper = {
        let start = text.find("function Invoke-InGuest {").expect("the helper");
        &text[start..start + text[start..].find("\n}\n").expect("its end")]
    };
    assert!(
        helper.contains("param($VmName, $Block, $Arguments, [switch]$DirectOnly)"),
        "{helper}"
    );
    let direct = helper.find("-ge 14393) {").expect("the build check");
    let refuse = helper.find("} elseif ($DirectOnly) {\n        throw 'PowerShell Direct needs Windows Server 2016 or later: an isolated test replica cannot be reached over the network'\n    } else {")
        .expect("direct-only refuses");
    let winrm = helper
        .find("ComputerName = $in.vmAddress")
        .expect("the WinRM fallback");
    assert!(direct < refuse && refuse < winrm, "{helper}");
    // The VM's isolation decides, and every read inside an isolated one is direct-only.
    assert!(text.contains("$isolated = ($state -eq 'Running') -and ($connected -eq 0)"));
    assert_eq!(
        lines_with(text, "-Block $probe"),
        [
            "$raw = Invoke-InGuest -VmName $vm.Name -Block $probe -Arguments (,@($names)) -DirectOnly:$isolated"
        ]
    );
    assert_eq!(
        lines_with(text, "-Block $portProbe"),
        [
            "$found = Invoke-InGuest -VmName $vm.Name -Block $portProbe -Arguments (,@($in.vmPorts)) -DirectOnly"
        ]
    );
    let isolated_names = text
        .find("if ($isolated) { $names = $in.vmServices }")
        .expect("spec.vm.services in an isolated VM");
    let ports = text
        .find("if ($isolated) {\n                $found = Invoke-InGuest")
        .expect("ports only in an isolated VM");
    let probe = text.find("$raw = Invoke-InGuest").expect("probe");
    assert!(isolated_names < probe && probe < ports);
    // The ports: TCP listeners and UDP endpoints inside the guest.
    let port_probe = &text[text.find("$portProbe = {").expect("the port probe")..];
    let port_probe = &port_probe[..port_probe.find("\n}\n").expect("its end")];
    assert!(
        port_probe.contains("Get-NetTCPConnection -State Listen -ErrorAction Stop")
            && port_probe.contains("Get-NetUDPEndpoint -ErrorAction Stop")
            && port_probe.contains("[int]$_.LocalPort"),
        "{port_probe}"
    );
    // The heartbeat of every running VM, read from the host, in a try.
    let beat = text
        .find("$beat = Get-VMIntegrationService -VM $vm -Name 'Heartbeat'")
        .expect("the heartbeat");
    let running = text.find("if ($state -eq 'Running') {").expect("running");
    assert!(running < beat && beat < probe);
    assert!(text[..beat].trim_end().ends_with("try {"));
    assert!(text.contains("$heartbeat = [string]$beat.PrimaryStatusDescription"));
    assert_eq!(
        lines_with(text, "$vms += "),
        [
            "$vms += [pscustomobject]@{ name = $vm.Name; state = $state; isolated = $isolated; heartbeat = $heartbeat; guestServices = $guest; listening = $listening; guestError = $guestError; disks = $disks; memoryBytes = $memory; diskBytes = $diskBytes; sizeError = $sizeError }"
        ]
    );
}

#[test]
fn observe_should_read_what_a_failover_onto_the_host_needs() {
    let text = &script(ScriptKind::Observe).text;
    // Free memory: Win32_OperatingSystem's FreePhysicalMemory counts KB.
    assert!(text.contains("$memoryFree = [uint64]$os.FreePhysicalMemory * [uint64]1024"));
    // The replica path's volume: its drive, and that logical disk's free space, in a try.
    let drive = text
        .find("$drive = Split-Path -Path $in.replicaPath -Qualifier")
        .expect("the replica path's drive");
    let disk = text
        .find("Get-CimInstance -ClassName Win32_LogicalDisk | Where-Object { [string]$_.DeviceID -eq $drive }")
        .expect("its volume");
    assert!(text[..drive].trim_end().ends_with("try {") && drive < disk);
    assert!(text.contains("$volumeFree = [uint64]$volume[0].FreeSpace"));
    // Each VM's memory at start and its disks' virtual size.
    assert!(text.contains("$memory = [uint64]$vm.MemoryStartup"));
    assert!(
        text.contains("foreach ($vhd in @(Get-VHD -Path $disks)) { $total += [uint64]$vhd.Size }")
    );
    // The licence: read in a try of its own inside the Carbonite session, so that a failure
    // leaves the jobs and e-mail settings readable.
    let connect = text.find("$server = Connect-DoubleTake").expect("connect");
    let status = text
        .find("$activation = Get-DtActivationStatus -ServiceHost $server")
        .expect("the activation status");
    let jobs = text
        .find("$all = @(Get-DtJob -ServiceHost $server)")
        .expect("jobs");
    assert!(connect < status && status < jobs);
    assert!(text[..status].trim_end().ends_with("try {"));
    assert!(text.contains(
        "$licence = [pscustomobject]@{ isValid = $null; codes = @(); error = $_.Exception.Message }"
    ));
    // Nothing of the code itself (a licence key) is read.
    assert!(!text.contains("$code.Code"));
}

#[test]
fn capture_should_record_the_activation_without_the_licence_keys() {
    let text = &script(ScriptKind::Capture).text;
    assert!(text.contains("$activationStatus = Get-DtActivationStatus -ServiceHost $server"));
    assert!(text.contains("-ExcludeProperty Code, SerialNumber"));
    assert!(text.contains("ActivationStatus = $activation; ActivationError = $activationError"));
}
