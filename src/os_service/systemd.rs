//! The systemd unit `service install` prints on Linux: the hardened unit of
//! `examples/systemd/`, with its command line, manifests and state dir set from the arguments
//! given. Printed, not installed: where units live and who may write them is the
//! administrator's call.

use std::ffi::OsString;
use std::path::Path;

/// The unit as shipped.
pub const UNIT: &str = include_str!("../../examples/systemd/galaxy-ha.service");

/// What `service uninstall` prints on Linux.
pub const UNINSTALL: &str = "\
# galaxy-ha runs under systemd on this system; remove its unit with:
systemctl disable --now galaxy-ha
rm /etc/systemd/system/galaxy-ha.service
systemctl daemon-reload
# The state dir and the manifests are kept.
";

/// The unit for `exe run RUN_ARGS`: `ExecStart=` runs it, `ReadOnlyPaths=` names the
/// manifests, and a given state dir replaces the unit's `/var/lib/galaxy-ha`.
pub fn unit(
    exe: &Path,
    run_args: &[OsString],
    manifests: &Path,
    state_dir: Option<&Path>,
) -> String {
    let command = std::iter::once(exe.as_os_str())
        .chain(std::iter::once("run".as_ref()))
        .chain(run_args.iter().map(OsString::as_os_str))
        .map(|a| quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut text = String::with_capacity(UNIT.len() + command.len());
    for line in UNIT.lines() {
        let key = line.split_once('=').map_or("", |(k, _)| k);
        let value = |v: &Path| format!("{key}={}", quote(&v.to_string_lossy()));
        let line = match (key, state_dir) {
            ("ExecStart", _) => format!("ExecStart={command}"),
            ("ReadOnlyPaths", _) => value(manifests),
            ("ReadWritePaths", Some(dir)) => value(dir),
            ("Environment", Some(dir)) if line.starts_with("Environment=GALAXY_HA_STATE_DIR=") => {
                format!(
                    "Environment={}",
                    quote(&format!("GALAXY_HA_STATE_DIR={}", dir.to_string_lossy()))
                )
            }
            _ => line.to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// One word of a unit's command line or setting: `%` and `$` escaped (systemd expands them),
/// and quoted when it holds anything but plain path characters.
fn quote(word: &str) -> String {
    let escaped = word.replace('%', "%%").replace('$', "$$");
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if plain {
        escaped
    } else {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_systemd_would_split_or_expand_are_quoted_and_escaped() {
        assert_eq!(
            quote("/srv/galaxy-ha/manifests"),
            "/srv/galaxy-ha/manifests"
        );
        assert_eq!(quote("0.0.0.0:9440"), "0.0.0.0:9440");
        assert_eq!(quote("/srv/my sites"), "\"/srv/my sites\"");
        assert_eq!(quote("50%"), "\"50%%\"");
        assert_eq!(quote("$HOME"), "\"$$HOME\"");
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn only_the_command_manifests_and_a_given_state_dir_change() {
        let args: Vec<OsString> = vec!["-m".into(), "/etc/sites".into(), "--dry-run".into()];
        let text = unit(
            Path::new("/opt/galaxy-ha/galaxy-ha"),
            &args,
            Path::new("/etc/sites"),
            Some(Path::new("/data/galaxy ha")),
        );
        let mut changed = Vec::new();
        for (shipped, printed) in UNIT.lines().zip(text.lines()) {
            if shipped != printed {
                changed.push(printed);
            }
        }
        assert_eq!(
            changed,
            [
                "ExecStart=/opt/galaxy-ha/galaxy-ha run -m /etc/sites --dry-run",
                "Environment=\"GALAXY_HA_STATE_DIR=/data/galaxy ha\"",
                "ReadOnlyPaths=/etc/sites",
                "ReadWritePaths=\"/data/galaxy ha\"",
            ]
        );
        assert_eq!(text.lines().count(), UNIT.lines().count());
    }

    #[test]
    fn without_a_state_dir_the_units_own_stays() {
        let text = unit(
            Path::new("/usr/local/bin/galaxy-ha"),
            &[],
            Path::new("/m"),
            None,
        );
        assert!(text.contains("Environment=GALAXY_HA_STATE_DIR=/var/lib/galaxy-ha\n"));
        assert!(text.contains("ReadWritePaths=/var/lib/galaxy-ha\n"));
    }
}
