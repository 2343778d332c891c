//! The Windows service: installed with the Service Control Manager (automatic start, restarted
//! after a failure, its event log source registered), and entered through its dispatcher,
//! where a stop or shutdown request stops `run` exactly as a signal does.

use std::ffi::OsString;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{
    self, ServiceControlHandlerResult, ServiceStatusHandle,
};
use windows_service::service_dispatcher;
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

use super::{DESCRIPTION, DISPLAY_NAME, SERVICE_NAME, scm_hint};
use crate::logging::EVENT_SOURCE;

/// Where event sources of the Application log are registered.
const EVENT_LOG_KEY: &str = r"SYSTEM\CurrentControlSet\Services\EventLog\Application";

/// The .NET Framework's message file, which reads "%1" for every event ID: the one
/// PowerShell's `New-EventLog` registers. Event Viewer then shows each message as written.
const MESSAGE_FILE: &str =
    r"%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll";

/// How long `uninstall` waits for a running service to stop.
const STOP_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ScmError {
    /// The Service Control Manager refused or failed.
    #[error("{what}: {}", explain(.error))]
    Scm {
        what: &'static str,
        /// Not a `source`: its own text ("IO error in winapi call") says less than
        /// [`explain`] does.
        error: windows_service::Error,
    },
    /// The service was asked to stop and did not.
    #[error(
        "the service {SERVICE_NAME} did not stop within {STOP_WAIT:?}; it is marked for deletion and goes once it stops"
    )]
    StillRunning,
}

/// The Windows error and, for the common ones, what to do.
fn explain(e: &windows_service::Error) -> String {
    match e {
        windows_service::Error::Winapi(io) => match io.raw_os_error().and_then(scm_hint) {
            Some(hint) => format!("{io}; {hint}"),
            None => io.to_string(),
        },
        other => other.to_string(),
    }
}

fn scm(what: &'static str) -> impl FnOnce(windows_service::Error) -> ScmError {
    move |error| ScmError::Scm { what, error }
}

/// Registers the service: `exe` with `launch_arguments`, as LocalSystem, started
/// automatically (delayed, once the network is up), restarted 5 s after a failure.
///
/// # Errors
/// Not elevated, or already installed.
pub fn install(exe: &Path, launch_arguments: Vec<OsString>) -> Result<(), ScmError> {
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )
    .map_err(scm("cannot open the Service Control Manager"))?;
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.to_path_buf(),
        launch_arguments,
        dependencies: vec![],
        account_name: None,
        account_password: None,
    };
    let service = manager
        .create_service(&info, ServiceAccess::CHANGE_CONFIG | ServiceAccess::START)
        .map_err(scm("cannot install the service"))?;
    // Refinements: the service runs without them, so a system that refuses one (an old
    // Windows, Wine) gets a warning naming the setting instead of a half-done install.
    let restart = ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(5),
    };
    let refinements: [(&str, windows_service::Result<()>); 4] = [
        ("the description", service.set_description(DESCRIPTION)),
        (
            "the delayed start (Automatic (Delayed Start))",
            service.set_delayed_auto_start(true),
        ),
        (
            "the restart after a failure (Recovery: restart after 5 s)",
            service.update_failure_actions(ServiceFailureActions {
                reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
                reboot_msg: None,
                command: None,
                actions: Some(vec![restart; 3]),
            }),
        ),
        // `run` exiting 1 (a bad argument, the lock held) is a failure too, not only a crash.
        (
            "the restart after an exit with an error",
            service.set_failure_actions_on_non_crash_failures(true),
        ),
    ];
    for (what, result) in refinements {
        if let Err(e) = result {
            tracing::warn!(
                "the service is installed without {what}: {}; set it in services.msc",
                explain(&e)
            );
        }
    }
    if let Err(e) = register_event_source() {
        tracing::warn!(
            "the event log source {EVENT_SOURCE} is not registered ({}): events still reach the \
             Application log, where Event Viewer prefixes their text with a note that it has no \
             description for them",
            e.message()
        );
    }
    Ok(())
}

/// Stops the service if it runs and removes it, and its event log source. State and logs
/// are kept.
///
/// # Errors
/// Not elevated, not installed, or it did not stop in time.
pub fn uninstall() -> Result<(), ScmError> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(scm("cannot open the Service Control Manager"))?;
    let service = manager
        .open_service(
            SERVICE_NAME,
            ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
        )
        .map_err(scm("cannot open the service"))?;
    // Marked first: the SCM removes it once it has stopped, whatever happens next.
    service.delete().map_err(scm("cannot remove the service"))?;
    let state = |s: &windows_service::service::Service| {
        s.query_status()
            .map(|st| st.current_state)
            .map_err(scm("cannot ask the service's state"))
    };
    if state(&service)? != ServiceState::Stopped {
        service.stop().map_err(scm("cannot stop the service"))?;
        let start = Instant::now();
        while state(&service)? != ServiceState::Stopped {
            if start.elapsed() > STOP_WAIT {
                return Err(ScmError::StillRunning);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    if let Err(e) = deregister_event_source() {
        tracing::warn!(
            "the event log source {EVENT_SOURCE} stays registered: {}",
            e.message()
        );
    }
    Ok(())
}

fn register_event_source() -> windows_registry::Result<()> {
    let key = windows_registry::LOCAL_MACHINE.create(format!(r"{EVENT_LOG_KEY}\{EVENT_SOURCE}"))?;
    key.set_expand_string("EventMessageFile", MESSAGE_FILE)?;
    // Error, warning and information.
    key.set_u32("TypesSupported", 7)
}

fn deregister_event_source() -> windows_registry::Result<()> {
    windows_registry::LOCAL_MACHINE
        .open(EVENT_LOG_KEY)?
        .remove_tree(EVENT_SOURCE)
}

/// Creates `dir` when it is missing, open to SYSTEM and the Administrators group only, as
/// the systemd unit's `StateDirectoryMode=0700` keeps the state to its service: the state is
/// the controller's memory. A directory that exists keeps the permissions it has.
pub fn create_private_dir(dir: &Path) {
    if dir.exists() {
        return;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::warn!("cannot create {}: {e}; the service will try", dir.display());
        return;
    }
    // Well-known SIDs rather than names, which differ with the language of Windows.
    let restricted = std::process::Command::new("icacls")
        .arg(dir)
        .args([
            "/inheritance:r",
            "/grant:r",
            "*S-1-5-18:(OI)(CI)F",
            "*S-1-5-32-544:(OI)(CI)F",
        ])
        .stdout(std::process::Stdio::null())
        .status();
    if !restricted
        .as_ref()
        .is_ok_and(std::process::ExitStatus::success)
    {
        tracing::warn!(
            "{} keeps the permissions it inherited (icacls: {}); restrict it to SYSTEM and \
             Administrators (docs/windows.md, step 2)",
            dir.display(),
            match restricted {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            }
        );
    }
}

/// What the service runs, handed from [`serve`] to the thread the dispatcher starts.
type Work = Box<dyn FnOnce() -> u32 + Send>;
static WORK: Mutex<Option<Work>> = Mutex::new(None);
static EXIT_CODE: OnceLock<u32> = OnceLock::new();
static STATUS: OnceLock<ServiceStatusHandle> = OnceLock::new();

windows_service::define_windows_service!(ffi_service_main, service_main);

/// Runs `work` as the service: connects to the Service Control Manager, reports running,
/// runs `work` until it returns (a stop request ends it through [`crate::stop`]), and
/// reports stopped with its exit code.
///
/// # Errors
/// The process was not started by the Service Control Manager.
pub fn serve(work: impl FnOnce() -> u32 + Send + 'static) -> Result<u32, ScmError> {
    *WORK.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(work));
    service_dispatcher::start(SERVICE_NAME, ffi_service_main)
        .map_err(scm("cannot start as a service"))?;
    Ok(EXIT_CODE.get().copied().unwrap_or(1))
}

fn service_main(_arguments: Vec<OsString>) {
    let code = match run_as_service() {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(
                "the service could not talk to the Service Control Manager: {}",
                explain(&e)
            );
            1
        }
    };
    let _ = EXIT_CODE.set(code);
}

fn run_as_service() -> windows_service::Result<u32> {
    let status = service_control_handler::register(SERVICE_NAME, |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown | ServiceControl::Preshutdown => {
            if let Some(status) = STATUS.get() {
                let _ = status.set_service_status(state(ServiceState::StopPending, 0));
            }
            crate::stop::request();
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    })?;
    let _ = STATUS.set(status);
    status.set_service_status(state(ServiceState::Running, 0))?;
    let work = WORK.lock().unwrap_or_else(PoisonError::into_inner).take();
    let code = work.map_or(1, |work| work());
    status.set_service_status(state(ServiceState::Stopped, code))?;
    Ok(code)
}

/// The status reported in `state`; a failure's code is service-specific (`run`'s exit status).
fn state(current_state: ServiceState, code: u32) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state,
        controls_accepted: if current_state == ServiceState::Running {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code: if code == 0 {
            ServiceExitCode::Win32(0)
        } else {
            ServiceExitCode::ServiceSpecific(code)
        },
        checkpoint: 0,
        // The grace period for passes in progress, and the runtime's own half second.
        wait_hint: if current_state == ServiceState::StopPending {
            crate::service::SHUTDOWN_GRACE + Duration::from_secs(2)
        } else {
            Duration::ZERO
        },
        process_id: None,
    }
}
