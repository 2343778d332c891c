//! The scripts: one constant text per operation kind, plus observe and doctor. No manifest
//! value is ever part of a script's text; values arrive as JSON on standard input.
//!
//! Every script is the same wrapper around a body. The wrapper reads the envelope
//! (`{computer, remote, credential, guestCredential, input}`) from standard input, builds a
//! `PSCredential` from each credential there is, and runs the body here (`& $body`) or on the
//! host (`Invoke-Command -ComputerName`). Bodies print one JSON document (observe, doctor,
//! capture, remove-replica) or nothing. Failures: exit 3 with `unreachable|message` when the host
//! cannot be reached, exit 2 with `SYSTEM|message` when Carbonite, Hyper-V or Windows refused.
//!
//! No credential ever makes a second WinRM hop: every Double-Take server (each host, and the
//! System Galaxy guest that is a job's source) gets its own `New-DtServer` session with its
//! own credential, and the guest's services are read with the guest's credential (PowerShell
//! Direct on Windows Server 2016 and later, WinRM to the guest's address on 2012 R2).
//! Carbonite's asynchronous cmdlets return an `ActivityToken`; every one is waited on.

use std::sync::LazyLock;

use super::names;
use crate::model::operation::ActionKind;

/// What a script does: one of the three queries, or the action of an operation kind. The
/// operation kinds are [`ActionKind`]'s one list; no second list of them is kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScriptKind {
    Observe,
    Doctor,
    Capture,
    Act(ActionKind),
}

impl ScriptKind {
    /// The script that carries out an action of `kind`: its own, except that a test failover
    /// is the failover script with `mode: test` in its input, and an alert runs no script.
    pub fn of(kind: ActionKind) -> Option<ScriptKind> {
        match kind {
            ActionKind::Alert => None,
            ActionKind::TestFailover => Some(ScriptKind::Act(ActionKind::Failover)),
            kind => Some(ScriptKind::Act(kind)),
        }
    }

    /// Every script: the queries, then one per operation kind that has its own.
    pub fn all() -> Vec<ScriptKind> {
        [ScriptKind::Observe, ScriptKind::Doctor, ScriptKind::Capture]
            .into_iter()
            .chain(
                ActionKind::ALL
                    .into_iter()
                    .filter(|&k| ScriptKind::of(k) == Some(ScriptKind::Act(k)))
                    .map(ScriptKind::Act),
            )
            .collect()
    }

    /// A stable name (snapshot names, logs, temp file names): the operation kind's.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Observe => "observe",
            ScriptKind::Doctor => "doctor",
            ScriptKind::Capture => "capture",
            ScriptKind::Act(kind) => kind.as_str(),
        }
    }

    fn body(self) -> &'static str {
        match self {
            ScriptKind::Observe => OBSERVE,
            ScriptKind::Doctor => DOCTOR,
            ScriptKind::Capture => CAPTURE,
            ScriptKind::Act(kind) => match kind {
                ActionKind::StartService => START_SERVICE,
                ActionKind::SetServiceStartup => SET_SERVICE_STARTUP,
                ActionKind::OpenFirewallPort => OPEN_FIREWALL_PORT,
                ActionKind::SetEmailNotification => SET_EMAIL_NOTIFICATION,
                ActionKind::CreateJob => CREATE_JOB,
                ActionKind::UpdateJob => UPDATE_JOB,
                ActionKind::DeleteJob => DELETE_JOB,
                ActionKind::RemoveReplica => REMOVE_VM,
                ActionKind::StopVm => STOP_VM,
                ActionKind::Failover | ActionKind::TestFailover => FAILOVER,
                ActionKind::EndTestFailover => END_TEST_FAILOVER,
                ActionKind::Alert => unreachable!("an alert runs no script (`ScriptKind::of`)"),
            },
        }
    }
}

/// A generated script: constant for its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub kind: ScriptKind,
    pub text: String,
}

static SCRIPTS: LazyLock<Vec<Script>> = LazyLock::new(|| {
    ScriptKind::all()
        .into_iter()
        .map(|kind| Script {
            kind,
            text: generate(kind),
        })
        .collect()
});

/// The script of a kind (generated once); a test failover's is the failover script.
pub fn script(kind: ScriptKind) -> &'static Script {
    let kind = match kind {
        ScriptKind::Act(action) => ScriptKind::of(action).unwrap_or(kind),
        query => query,
    };
    SCRIPTS
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| unreachable!("every kind has a script"))
}

fn generate(kind: ScriptKind) -> String {
    let text = [
        format!(
            "# galaxy-ha {} script. Generated; manifest values arrive as JSON on standard input.\n",
            kind.as_str()
        ),
        PREAMBLE.to_string(),
        HELPERS.to_string(),
        kind.body().to_string(),
        POSTAMBLE.to_string(),
    ]
    .concat();
    names::expand(&text)
}

/// Reads the envelope and opens the body's script block.
const PREAMBLE: &str = r#"$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$envelope = [Console]::In.ReadToEnd() | ConvertFrom-Json
$body = {
    param($in, $cred, $guestCred)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    # Windows PowerShell 5.1 writes some arrays as {"value": [...], "Count": n} without this.
    Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue
    $system = 'Windows'
    try {
        if ($PSVersionTable.PSVersion -lt [version]'5.1') {
            throw ('Windows PowerShell 5.1 is needed on ' + $env:COMPUTERNAME + ', which has ' + $PSVersionTable.PSVersion.ToString() + ': install Windows Management Framework 5.1')
        }
        if ([int](Get-CimInstance -ClassName Win32_OperatingSystem).BuildNumber -lt 9600) {
            throw ($env:COMPUTERNAME + ' runs a Windows older than Windows Server 2012 R2, which galaxy-ha does not support (see docs/preparing-hosts.md)')
        }
"#;

/// Functions every body may use; defined inside the block so that they travel with it.
const HELPERS: &str = r#"
function Import-DoubleTake {
    param($InstallPath)
    if (Get-Command -Name '%%NEW_DT_SERVER%%' -ErrorAction SilentlyContinue) { return }
    $root = $InstallPath
    if (-not $root) {
        $root = (Get-ItemProperty -LiteralPath '%%DT_REGISTRY_KEY%%' -Name '%%DT_INSTALL_PATH%%').'%%DT_INSTALL_PATH%%'
    }
    $dll = Join-Path -Path (Join-Path -Path $root -ChildPath 'Console') -ChildPath '%%DT_DLL%%'
    if (-not (Test-Path -LiteralPath $dll)) {
        $dll = Join-Path -Path (Join-Path -Path $root -ChildPath 'Service') -ChildPath '%%DT_DLL%%'
    }
    Import-Module -Name $dll -DisableNameChecking
}

function Connect-DoubleTake {
    param($Address, $Credential)
    if ($null -ne $Credential) {
        return %%NEW_DT_SERVER%% -Name $Address -Credential $Credential
    }
    return %%NEW_DT_SERVER%% -Name $Address
}

function Connect-Guest {
    if ($null -eq $guestCred) {
        throw 'connecting to Double-Take in the System Galaxy guest needs the guest credential: set spec.platform.powershell.guestUsername and guestCredentialFrom'
    }
    return Connect-DoubleTake -Address $in.vmAddress -Credential $guestCred
}

function Get-OsBuild {
    return [int](Get-CimInstance -ClassName Win32_OperatingSystem).BuildNumber
}

function Wait-CarboniteAction {
    param([DoubleTake.PowerShell.Server]$Server, [DoubleTake.Common.Tasks.ActivityToken]$Token, $What)
    $deadline = (Get-Date).AddSeconds([int]$in.actionTimeoutSeconds)
    while ($true) {
        $entry = %%GET_DT_JOB_ACTION_STATUS%% -ServiceHost $Server -Action $Token
        $state = [string]$entry.%%ACTION_STATUS%%
        if ($state -eq '%%ACTION_COMPLETED%%') { return }
        if ($state -eq '%%ACTION_FAULTED%%' -or $state -eq '%%ACTION_CANCELED%%') {
            throw ($What + ' ended ' + $state + ': ' + [string]$entry.%%ACTION_MESSAGE%%)
        }
        if ((Get-Date) -gt $deadline) {
            throw ($What + ' did not complete within ' + [string]$in.actionTimeoutSeconds + ' s; it is still ' + $state)
        }
        Start-Sleep -Seconds 2
    }
}

function Test-OurJob {
    param([DoubleTake.Jobs.Contract.JobInfo]$Job, $Identity)
    if ([string]$Job.%%JOB_JOB_TYPE%% -ne '%%JOB_TYPE%%') { return $false }
    if (-not ($Identity.sources -contains [string]$Job.%%JOB_SOURCE_URI%%.Host)) { return $false }
    return ($Identity.targets -contains [string]$Job.%%JOB_TARGET_URI%%.Host)
}

function Find-Job {
    param([DoubleTake.PowerShell.Server]$Server, $Name, $Identity)
    $named = @(%%GET_DT_JOB%% -ServiceHost $Server | Where-Object { [string]$_.%%JOB_NAME%% -eq $Name })
    if ($named.Count -eq 0) { throw ('no job named "' + $Name + '" on ' + $env:COMPUTERNAME) }
    $ours = @($named | Where-Object { Test-OurJob -Job $_ -Identity $Identity })
    if ($ours.Count -ne 1) {
        throw ('job "' + $Name + '" on ' + $env:COMPUTERNAME + ' is not a ' + '%%JOB_TYPE%%' + ' job from the System Galaxy guest to this host; it is left alone')
    }
    return $ours[0]
}

function Set-Monitor {
    param([DoubleTake.Jobs.Contract.JobOptions]$Options, $Monitor)
    $Options.%%OPT_MONITORING_ENABLED%% = $true
    $core = $Options.%%OPT_CORE_MONITOR%%
    $core.%%MON_CONFIG%%.%%MON_PROCESSING_OPTIONS%% = '%%MON_USER_INTERVENTION%%'
    $addresses = @($core.%%MON_CONFIG%%.%%MON_ADDRESSES%%)
    if ($addresses.Count -eq 0) { throw 'the job has no monitored address for its failover monitor' }
    foreach ($address in $core.%%MON_CONFIG%%.%%MON_ADDRESSES%%) {
        $address.%%MON_INTERVAL%% = [TimeSpan]::FromSeconds([double]$Monitor.intervalSeconds)
        if ($null -ne $Monitor.consecutiveFailures) {
            $address.%%MON_ATTEMPTS%% = [int16]$Monitor.consecutiveFailures
        }
    }
    if ($null -ne $Monitor.consecutiveFailures) {
        $core.%%MON_USE_TOTAL_TIME%% = $false
    } else {
        $core.%%MON_USE_TOTAL_TIME%% = $true
        $core.%%MON_TOTAL_TIME%% = [TimeSpan]::FromSeconds([double]$Monitor.totalTimeSeconds)
    }
}

function Find-Vm {
    param($Name)
    $found = @(Get-VM | Where-Object { $_.Name -eq $Name })
    if ($found.Count -eq 0) { throw ('Hyper-V was unable to find a virtual machine with name "' + $Name + '"') }
    return $found[0]
}

function Invoke-InGuest {
    param($VmName, $Block, $Arguments)
    if ($null -eq $guestCred) {
        throw 'reaching the System Galaxy guest needs the guest credential: set spec.platform.powershell.guestUsername and guestCredentialFrom'
    }
    if ((Get-OsBuild) -ge 14393) {
        return Invoke-Command -VMName $VmName -Credential $guestCred -ScriptBlock $Block -ArgumentList $Arguments
    }
    # Windows Server 2012 R2 has no PowerShell Direct: WinRM to the guest's own address, with
    # the guest's credential given explicitly (nothing is delegated).
    return Invoke-Command -ComputerName $in.vmAddress -Credential $guestCred -ScriptBlock $Block -ArgumentList $Arguments
}

function Invoke-InRunningGuest {
    param($Block, $Arguments)
    $running = @(Get-VM | Where-Object { [string]$_.State -eq 'Running' -and ($in.vmNames -contains $_.Name) })
    if ($running.Count -eq 0) { throw 'no running System Galaxy virtual machine on this host' }
    return Invoke-InGuest -VmName $running[0].Name -Block $Block -Arguments $Arguments
}

$probe = {
    param($names)
    foreach ($n in $names) {
        $s = Get-Service -Name $n -ErrorAction SilentlyContinue
        if ($null -eq $s) { $s = Get-Service -DisplayName $n -ErrorAction SilentlyContinue }
        if ($null -eq $s) { continue }
        $reg = Get-ItemProperty -LiteralPath ('HKLM:\SYSTEM\CurrentControlSet\Services\' + $s.Name) -ErrorAction SilentlyContinue
        $delayed = $false
        $start = $null
        if ($null -ne $reg) {
            $delayed = ($reg.DelayedAutostart -eq 1)
            $start = $reg.Start
        }
        # StartType needs .NET 4.6.1; the registry's Start value (2 automatic, 3 manual,
        # 4 disabled) is read too, for Windows Server 2012 R2.
        [pscustomobject]@{ name = $n; status = [string]$s.Status; startType = [string]$s.StartType; startValue = $start; delayedAutoStart = $delayed }
    }
}

"#;

/// Closes the body and runs it here or on the host; prints what it returned.
const POSTAMBLE: &str = r#"
    } catch {
        throw ($system + '|' + $_.Exception.Message)
    }
}
function ConvertTo-Credential {
    param($Pair)
    if ($null -eq $Pair) { return $null }
    $secure = ConvertTo-SecureString -String $Pair.password -AsPlainText -Force
    return New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $Pair.username, $secure
}
$cred = ConvertTo-Credential -Pair $envelope.credential
$guestCred = ConvertTo-Credential -Pair $envelope.guestCredential
try {
    if ($envelope.remote) {
        $params = @{ ComputerName = $envelope.computer; ScriptBlock = $body; ArgumentList = @($envelope.input, $cred, $guestCred) }
        if ($null -ne $cred) { $params.Credential = $cred }
        $out = Invoke-Command @params
    } else {
        $out = & $body $envelope.input $cred $guestCred
    }
} catch {
    $transport = $_.Exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]
    if ($transport -or [string]$_.CategoryInfo.Reason -eq 'PSRemotingTransportException') {
        [Console]::Error.WriteLine('unreachable|' + $_.Exception.Message)
        exit 3
    }
    [Console]::Error.WriteLine($_.Exception.Message)
    exit 2
}
$last = @($out) | Select-Object -Last 1
if ($null -ne $last) { [Console]::Out.Write([string]$last) }
exit 0
"#;

/// Everything `Observed` holds about one host, as one JSON document. Enums are written as
/// their names (`[string]`), `DateTimeOffset` with `.ToString('o')`, `TimeSpan` as
/// `.TotalSeconds`: Windows PowerShell 5.1's `ConvertTo-Json` would write numbers and objects.
const OBSERVE: &str = r#"
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$services = @(& $probe $in.services)

$firewall = @()
foreach ($f in @(Get-NetFirewallPortFilter -All -PolicyStore ActiveStore)) {
    $wanted = @(@($f.LocalPort) | Where-Object { [string]$_ -match '^[0-9]+$' -and ($in.ports -contains [int]$_) })
    if ($wanted.Count -eq 0) { continue }
    $rule = Get-NetFirewallRule -AssociatedNetFirewallPortFilter $f
    if ([string]$rule.Enabled -ne 'True' -or [string]$rule.Direction -ne 'Inbound' -or [string]$rule.Action -ne 'Allow') { continue }
    foreach ($p in $wanted) {
        $firewall += [pscustomobject]@{ port = [int]$p; protocol = [string]$f.Protocol }
    }
}

$system = 'Hyper-V'
$vms = @()
foreach ($vm in @(Get-VM)) {
    if (-not ($in.vmNames -contains $vm.Name)) { continue }
    $state = [string]$vm.State
    $connected = @(Get-VMNetworkAdapter -VM $vm | Where-Object { $_.SwitchName }).Count
    $isolated = ($state -eq 'Running') -and ($connected -eq 0)
    $guest = $null
    $guestError = $null
    if ($state -eq 'Running' -and -not $isolated) {
        try {
            $raw = Invoke-InGuest -VmName $vm.Name -Block $probe -Arguments (,@($in.services))
            $guest = @($raw | ForEach-Object { [pscustomobject]@{ name = [string]$_.name; status = [string]$_.status; startType = [string]$_.startType; startValue = $_.startValue; delayedAutoStart = [bool]$_.delayedAutoStart } })
        } catch {
            $guestError = $_.Exception.Message
        }
    }
    $disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
    $vms += [pscustomobject]@{ name = $vm.Name; state = $state; isolated = $isolated; guestServices = $guest; guestError = $guestError; disks = $disks }
}

$system = 'Carbonite'
$email = $null
$jobs = @()
$dtError = $null
try {
    Import-DoubleTake -InstallPath $in.installPath
    $server = Connect-DoubleTake -Address $in.address -Credential $cred
    try {
        $mail = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
        if ($null -ne $mail -and $mail.%%MAIL_ENABLED%%) {
            $login = [bool]$mail.%%MAIL_LOGIN%%
            $user = $null
            if ($login -and $null -ne $mail.%%MAIL_CREDENTIALS%%) { $user = [string]$mail.%%MAIL_CREDENTIALS%%.%%CRED_USERNAME%% }
            $email = [pscustomobject]@{
                server = [string]$mail.%%MAIL_SERVER%%
                port = $mail.%%MAIL_PORT%%
                security = [string]$mail.%%MAIL_SECURITY%%
                login = $login
                username = $user
                from = [string]$mail.%%MAIL_FROM%%
                to = [string]$mail.%%MAIL_TO%%
                subjectPrefix = [string]$mail.%%MAIL_SUBJECT_PREFIX%%
                addEventDescription = [bool]$mail.%%MAIL_ADD_DESCRIPTION%%
                include = [string]$mail.%%MAIL_INCLUDE%%
                excludeEventIds = [string]$mail.%%MAIL_EXCLUDE%%
            }
        }
        $all = @(%%GET_DT_JOB%% -ServiceHost $server)
        if ($all.Count -eq 0) {
            # An empty answer proves nothing when the account may not see every job.
            $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList ([System.Security.Principal.WindowsIdentity]::GetCurrent())
            $admin = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
            $dtAdmin = $false
            try { $dtAdmin = $principal.IsInRole('Double-Take Admin') } catch { $dtAdmin = $false }
            if (-not ($admin -or $dtAdmin)) {
                throw ('Get-DtJob listed no job, and ' + [System.Security.Principal.WindowsIdentity]::GetCurrent().Name + ' is neither a Double-Take Admin nor an administrator here: the jobs are not known')
            }
        }
        foreach ($j in $all) {
            $conn = $j.%%JOB_CONNECTIONS%%
            $core = $j.%%JOB_MONITOR%%
            $address = @($j.%%JOB_MONITOR%%.%%MON_CONFIG%%.%%MON_ADDRESSES%%)[0]
            $status = @($j.%%JOB_MONITOR_STATUSES%%)[0]
            $monitorStatus = $null
            if ($null -ne $status) {
                $monitorStatus = [pscustomobject]@{
                    alive = [bool]$status.%%MON_ALIVE%%
                    failoverConditionMet = [bool]$status.%%MON_CONDITION_MET%%
                    warningConditionMet = [bool]$status.%%MON_WARNING_MET%%
                    remainingSeconds = $status.%%MON_REMAINING%%.TotalSeconds
                }
            }
            $monitor = $null
            if ($null -ne $core) {
                $monitor = [pscustomobject]@{
                    enabled = $j.Options.%%OPT_MONITORING_ENABLED%%
                    intervalSeconds = $address.%%MON_INTERVAL%%.TotalSeconds
                    maxPingAttempts = $address.%%MON_ATTEMPTS%%
                    useTotalTime = [bool]$core.%%MON_USE_TOTAL_TIME%%
                    totalTimeSeconds = $core.%%MON_TOTAL_TIME%%.TotalSeconds
                    processingOptions = [string]$core.%%MON_CONFIG%%.%%MON_PROCESSING_OPTIONS%%
                }
            }
            $startTime = $null
            $mirrorStart = $null
            $mirrorEnd = $null
            if ($null -ne $conn) {
                $startTime = $conn.%%CONN_START_TIME%%.ToString('o')
                $mirrorStart = $conn.%%CONN_MIRROR_START%%.ToString('o')
                $mirrorEnd = $conn.%%CONN_MIRROR_END%%.ToString('o')
            }
            $jobs += [pscustomobject]@{
                id = [string]$j.%%JOB_ID%%
                name = [string]$j.%%JOB_NAME%%
                jobType = [string]$j.%%JOB_JOB_TYPE%%
                sourceHost = [string]$j.%%JOB_SOURCE_URI%%.Host
                targetHost = [string]$j.%%JOB_TARGET_URI%%.Host
                sourceMachine = [string]$conn.%%CONN_SOURCE_MACHINE%%
                targetMachine = [string]$conn.%%CONN_TARGET_MACHINE%%
                replicaName = [string]$j.%%JOB_REPLICA_NAME%%
                highLevelState = [string]$j.%%JOB_STATE%%
                health = [string]$j.%%JOB_HEALTH%%
                canFailover = [bool]$j.%%JOB_CAN_FAILOVER%%
                canUndoFailover = [bool]$j.%%JOB_CAN_UNDO_FAILOVER%%
                permillageComplete = $j.%%JOB_PERMILLAGE%%
                targetState = [string]$j.%%JOB_TARGET_STATE%%
                mirrorBytesRemaining = $conn.%%CONN_MIRROR_REMAINING%%
                replicationBytesQueued = $conn.%%CONN_REPLICATION_QUEUED%%
                diskQueueBytes = $conn.%%CONN_DISK_QUEUE%%
                targetQueueBytes = $conn.%%CONN_TARGET_QUEUE%%
                recoveryPointLatencyMs = $conn.%%CONN_LATENCY%%
                totalBytesSent = $conn.%%CONN_BYTES_SENT%%
                startTime = $startTime
                mirrorBytesSent = $conn.%%CONN_MIRROR_SENT%%
                mirrorStartTime = $mirrorStart
                mirrorEndTime = $mirrorEnd
                monitor = $monitor
                monitorStatus = $monitorStatus
            }
        }
    } finally {
        %%DISCONNECT_DT_SERVER%% -ServiceHost $server
    }
} catch {
    $dtError = $_.Exception.Message
}

$doc = [pscustomobject]@{
    formatVersion = 2
    computerName = $env:COMPUTERNAME
    psVersion = $PSVersionTable.PSVersion.ToString()
    osCaption = [string]$os.Caption
    osBuild = [int]$os.BuildNumber
    services = $services
    firewall = $firewall
    vms = $vms
    email = $email
    jobs = $jobs
    doubleTakeError = $dtError
}
return (ConvertTo-Json -InputObject $doc -Depth 6 -Compress)
"#;

/// What a host needs, each check with how to fix it.
const DOCTOR: &str = r#"
$checks = New-Object -TypeName System.Collections.ArrayList
function Add-Check {
    param($Name, $Ok, $Detail, $Fix)
    $null = $checks.Add([pscustomobject]@{ name = $Name; ok = [bool]$Ok; detail = [string]$Detail; fix = [string]$Fix })
}
$version = $PSVersionTable.PSVersion
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$build = [int]$os.BuildNumber
Add-Check -Name 'Windows Server 2012 R2 or later' -Ok ($build -ge 9600) -Detail ([string]$os.Caption + ' build ' + [string]$build) -Fix 'the guide supports Windows Server 2012 R2, 2016, 2019 and 2022 hosts'
Add-Check -Name 'Windows PowerShell 5.1' -Ok ($version -ge [version]'5.1') -Detail ('version ' + $version.ToString()) -Fix 'install Windows Management Framework 5.1'
$direct = 'PowerShell Direct (Windows Server 2016 or later)'
if ($build -lt 14393) { $direct = 'no PowerShell Direct before Windows Server 2016: the guest is reached over WinRM at its own address with the guest credential' }
Add-Check -Name 'guest access' -Ok $true -Detail $direct -Fix ''
$principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList ([System.Security.Principal.WindowsIdentity]::GetCurrent())
$admin = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
$hyperVAdmin = $principal.IsInRole((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-578'))
Add-Check -Name 'Hyper-V rights' -Ok ($admin -or $hyperVAdmin) -Detail ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name) -Fix 'add the account to the local Hyper-V Administrators group'
$dtAdmin = $false
try { $dtAdmin = $principal.IsInRole('Double-Take Admin') } catch { $dtAdmin = $false }
Add-Check -Name 'Double-Take rights' -Ok ($admin -or $dtAdmin) -Detail 'member of Double-Take Admin or Administrators' -Fix 'add the account to the local Double-Take Admin group'
$hyperV = @(Get-Module -ListAvailable -Name Hyper-V).Count -gt 0
Add-Check -Name 'Hyper-V module' -Ok $hyperV -Detail 'Get-Module -ListAvailable Hyper-V' -Fix 'Install-WindowsFeature -Name Hyper-V-PowerShell'
$firewallModule = @(Get-Module -ListAvailable -Name NetSecurity).Count -gt 0
Add-Check -Name 'NetSecurity module' -Ok $firewallModule -Detail 'Get-Module -ListAvailable NetSecurity' -Fix 'use Windows Server 2012 R2 or later'
foreach ($n in $in.services) {
    $s = Get-Service -Name $n -ErrorAction SilentlyContinue
    if ($null -eq $s) { $s = Get-Service -DisplayName $n -ErrorAction SilentlyContinue }
    $detail = 'not installed'
    if ($null -ne $s) { $detail = [string]$s.Status }
    Add-Check -Name ('service ' + $n) -Ok ($null -ne $s) -Detail $detail -Fix 'install Carbonite Availability (Double-Take) on this host'
}
$loaded = $false
$detail = ''
try {
    Import-DoubleTake -InstallPath $in.installPath
    $loaded = $true
    $detail = (Get-Command -Name '%%NEW_DT_SERVER%%').Source
} catch {
    $detail = $_.Exception.Message
}
Add-Check -Name 'DoubleTake PowerShell module' -Ok $loaded -Detail $detail -Fix 'install the Carbonite Replication Console or set spec.platform.powershell.installPath'
if ($loaded) {
    $connected = $false
    try {
        $server = Connect-DoubleTake -Address $in.address -Credential $cred
        $null = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
        %%DISCONNECT_DT_SERVER%% -ServiceHost $server
        $connected = $true
        $detail = 'New-DtServer ' + $in.address
    } catch {
        $detail = $_.Exception.Message
    }
    Add-Check -Name 'Double-Take session to this host' -Ok $connected -Detail $detail -Fix 'check spec.platform.powershell.username/credentialFrom and the Double-Take Admin group'
    $guestOk = $false
    try {
        $guest = Connect-Guest
        %%DISCONNECT_DT_SERVER%% -ServiceHost $guest
        $guestOk = $true
        $detail = 'New-DtServer ' + $in.vmAddress
    } catch {
        $detail = $_.Exception.Message
    }
    Add-Check -Name 'Double-Take session to the System Galaxy guest' -Ok $guestOk -Detail $detail -Fix 'set spec.platform.powershell.guestUsername and guestCredentialFrom to an account in the guest Double-Take Admin group; open 6325 in the guest'
}
$doc = [pscustomobject]@{ computerName = $env:COMPUTERNAME; psVersion = $version.ToString(); osBuild = $build; checks = @($checks) }
return (ConvertTo-Json -InputObject $doc -Depth 4 -Compress)
"#;

/// Only read-only cmdlets: what a host and the guest return, as Windows PowerShell 5.1 writes
/// it (no formatting), for `doctor --capture`. Secrets are removed by the controller.
const CAPTURE: &str = r#"
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$table = [pscustomobject]@{
    PSVersion = [string]$PSVersionTable.PSVersion
    PSEdition = [string]$PSVersionTable.PSEdition
    BuildVersion = [string]$PSVersionTable.BuildVersion
    CLRVersion = [string]$PSVersionTable.CLRVersion
    WSManStackVersion = [string]$PSVersionTable.WSManStackVersion
}
$services = @(& $probe $in.services)
$rules = @()
foreach ($f in @(Get-NetFirewallPortFilter -All -PolicyStore ActiveStore)) {
    $wanted = @(@($f.LocalPort) | Where-Object { [string]$_ -match '^[0-9]+$' -and ($in.ports -contains [int]$_) })
    if ($wanted.Count -eq 0) { continue }
    $rule = Get-NetFirewallRule -AssociatedNetFirewallPortFilter $f
    $rules += [pscustomobject]@{ displayName = [string]$rule.DisplayName; enabled = [string]$rule.Enabled; direction = [string]$rule.Direction; action = [string]$rule.Action; profile = [string]$rule.Profile; protocol = [string]$f.Protocol; localPort = @($f.LocalPort) }
}
$system = 'Hyper-V'
$vms = @(Get-VM | Where-Object { $in.vmNames -contains $_.Name } | ForEach-Object { [pscustomobject]@{ Name = $_.Name; State = $_.State; Generation = $_.Generation; Version = [string]$_.Version; Switches = @(Get-VMNetworkAdapter -VM $_ | ForEach-Object { [string]$_.SwitchName }) } })
$guestServices = $null
$guestError = $null
$running = @($vms | Where-Object { [string]$_.State -eq 'Running' })
if ($running.Count -gt 0) {
    try { $guestServices = @(Invoke-InGuest -VmName $running[0].Name -Block $probe -Arguments (,@($in.services))) } catch { $guestError = $_.Exception.Message }
}
$system = 'Carbonite'
$carbonite = $null
$dtError = $null
try {
    Import-DoubleTake -InstallPath $in.installPath
    $server = Connect-DoubleTake -Address $in.address -Credential $cred
    try {
        $mail = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
        $all = @(%%GET_DT_JOB%% -ServiceHost $server)
        $failover = @()
        foreach ($j in $all) {
            $failover += [pscustomobject]@{ JobId = [string]$j.%%JOB_ID%%; Options = (%%GET_DT_RECOMMENDED_FAILOVER_OPTIONS%% -ServiceHost $server -JobId $j.%%JOB_ID%%) }
        }
        $carbonite = [pscustomobject]@{ Jobs = $all; RecommendedFailoverOptions = $failover; EmailNotificationOptions = $mail }
    } finally {
        %%DISCONNECT_DT_SERVER%% -ServiceHost $server
    }
} catch {
    $dtError = $_.Exception.Message
}
$guestJobs = $null
if ($running.Count -gt 0 -and $null -ne $guestCred) {
    try {
        $guest = Connect-Guest
        try { $guestJobs = @(%%GET_DT_JOB%% -ServiceHost $guest) } finally { %%DISCONNECT_DT_SERVER%% -ServiceHost $guest }
    } catch {
        $guestError = $_.Exception.Message
    }
}
$doc = [pscustomobject]@{
    computerName = $env:COMPUTERNAME
    psVersionTable = $table
    osCaption = [string]$os.Caption
    osBuild = [string]$os.BuildNumber
    services = $services
    firewallRules = $rules
    vms = $vms
    guestServices = $guestServices
    guestJobs = $guestJobs
    guestError = $guestError
    carbonite = $carbonite
    doubleTakeError = $dtError
}
return (ConvertTo-Json -InputObject $doc -Depth 12 -Compress)
"#;

const START_SERVICE: &str = r#"
$action = {
    param($name)
    $ErrorActionPreference = 'Stop'
    $s = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $s) { $s = Get-Service -DisplayName $name }
    if ([string]$s.Status -ne 'Running') { Start-Service -InputObject $s }
}
if ($in.guest) {
    $null = Invoke-InRunningGuest -Block $action -Arguments @($in.service)
} else {
    & $action $in.service
}
"#;

const SET_SERVICE_STARTUP: &str = r#"
$action = {
    param($name, $startup)
    $ErrorActionPreference = 'Stop'
    $s = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $s) { $s = Get-Service -DisplayName $name }
    if ($startup -eq 'automatic' -or $startup -eq 'automatic-delayed') {
        $mode = 'auto'
        if ($startup -eq 'automatic-delayed') { $mode = 'delayed-auto' }
        $output = & sc.exe config $s.Name start= $mode
        if ($LASTEXITCODE -ne 0) { throw ('sc.exe config failed: ' + ($output -join ' ')) }
    } elseif ($startup -eq 'manual') {
        Set-Service -Name $s.Name -StartupType Manual
    } elseif ($startup -eq 'disabled') {
        Set-Service -Name $s.Name -StartupType Disabled
    } else {
        throw ('unknown startup type ' + $startup)
    }
}
if ($in.guest) {
    $null = Invoke-InRunningGuest -Block $action -Arguments @($in.service, $in.startup)
} else {
    & $action $in.service $in.startup
}
"#;

const OPEN_FIREWALL_PORT: &str = r#"
$display = 'Double-Take ' + $in.protocol + ' ' + $in.port + ' (galaxy-ha)'
$existing = @(Get-NetFirewallRule -DisplayName $display -ErrorAction SilentlyContinue)
if ($existing.Count -gt 0) {
    $existing | Set-NetFirewallRule -Enabled True -Direction Inbound -Action Allow -Protocol $in.protocol -LocalPort $in.port
} else {
    $null = New-NetFirewallRule -DisplayName $display -Group 'galaxy-ha' -Direction Inbound -Action Allow -Protocol $in.protocol -LocalPort $in.port -Profile Any
}
"#;

/// Guide steps 7-12: the server's e-mail settings, then its TEST button.
const SET_EMAIL_NOTIFICATION: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    $mail = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
    $mail.%%MAIL_ENABLED%% = $true
    $mail.%%MAIL_SERVER%% = [string]$in.settings.server
    $mail.%%MAIL_PORT%% = [int]$in.settings.port
    if ($in.settings.security -eq 'tls') {
        $mail.%%MAIL_SECURITY%% = '%%MAIL_SECURITY_SSL%%'
    } elseif ($in.settings.security -eq 'starttls') {
        $mail.%%MAIL_SECURITY%% = '%%MAIL_SECURITY_TLS%%'
    } else {
        $mail.%%MAIL_SECURITY%% = '%%MAIL_SECURITY_PLAIN%%'
    }
    if ($null -ne $in.settings.username) {
        $mail.%%MAIL_LOGIN%% = $true
        $login = New-Object -TypeName '%%MAIL_CREDENTIALS_TYPE%%'
        $login.%%CRED_USERNAME%% = [string]$in.settings.username
        if ($null -ne $in.password) { $login.%%CRED_PASSWORD%% = [string]$in.password }
        $mail.%%MAIL_CREDENTIALS%% = $login
    } else {
        $mail.%%MAIL_LOGIN%% = $false
    }
    $mail.%%MAIL_FROM%% = [string]$in.settings.from
    $mail.%%MAIL_TO%% = (@($in.settings.to) -join ',')
    $mail.%%MAIL_SUBJECT_PREFIX%% = [string]$in.settings.subjectPrefix
    $mail.%%MAIL_ADD_DESCRIPTION%% = [bool]$in.settings.addEventDescription
    $mail.%%MAIL_INCLUDE%% = (@($in.settings.include) -join ',')
    $mail.%%MAIL_EXCLUDE%% = [string]$in.settings.excludeEventIds
    %%SET_DT_EMAIL_OPTIONS%% -ServiceHost $server -Options $mail
    %%TEST_DT_EMAIL%% -ServiceHost $server -Options $mail -To (@($in.settings.to) -join ',') -Body ('galaxy-ha: test of the Double-Take e-mail notification on ' + $env:COMPUTERNAME)
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

/// Guide step "create a new replication job": the workload on the source (the System Galaxy
/// guest, with its own credential), the options, validation and the job on the target host.
const CREATE_JOB: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$source = Connect-Guest
$target = Connect-DoubleTake -Address $in.targetAddress -Credential $cred
try {
    $workloadId = %%NEW_DT_WORKLOAD%% -ServiceHost $source -WorkloadTypeName '%%JOB_TYPE%%'
    $workload = %%GET_DT_WORKLOAD%% -ServiceHost $source -WorkloadId $workloadId
    $recommended = %%GET_DT_RECOMMENDED_JOB_OPTIONS%% -ServiceHost $target -Source $source -JobType '%%JOB_TYPE%%' -Workload $workload
    $options = $recommended.JobOptions
    $options.%%OPT_NAME%% = [string]$in.name
    $options.%%OPT_REPLICA_NAME%% = [string]$in.replica
    $options.%%OPT_REPLICA_PATH%% = [string]$in.replicaPath
    Set-Monitor -Options $options -Monitor $in.monitor
    $verification = %%CONFIRM_DT_JOB_OPTIONS%% -ServiceHost $target -Source $source -JobType '%%JOB_TYPE%%' -JobOptions $options
    $steps = @(%%WAIT_DT_CONFIRM_JOB_OPTIONS%% -ServiceHost $target -Token $verification)
    $problems = @($steps | Where-Object { [string]$_.%%VERIFY_STATUS%% -eq '%%VERIFY_ERROR%%' })
    if ($problems.Count -gt 0) {
        throw ('the job options were refused: ' + (@($problems | ForEach-Object { [string]$_.%%VERIFY_MESSAGE%% }) -join '; '))
    }
    $jobId = %%NEW_DT_JOB%% -ServiceHost $target -Source $source -JobType '%%JOB_TYPE%%' -JobOptions $options
    $started = %%START_DT_JOB%% -ServiceHost $target -JobId $jobId
    Wait-CarboniteAction -Server $target -Token $started -What ('starting job "' + $in.name + '"')
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $source
    %%DISCONNECT_DT_SERVER%% -ServiceHost $target
}
"#;

const UPDATE_JOB: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    [DoubleTake.Jobs.Contract.JobInfo]$job = Find-Job -Server $server -Name $in.job -Identity $in.identity
    $options = $job.Options
    Set-Monitor -Options $options -Monitor $in.monitor
    $edited = %%EDIT_DT_JOB%% -ServiceHost $server -JobId $job.%%JOB_ID%% -JobOptions $options
    Wait-CarboniteAction -Server $server -Token $edited -What ('editing job "' + $in.job + '"')
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

/// Deletes the job and waits until Carbonite no longer lists it.
const DELETE_JOB: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    [DoubleTake.Jobs.Contract.JobInfo]$job = Find-Job -Server $server -Name $in.job -Identity $in.identity
    $delete = New-Object -TypeName '%%DEL_OPTIONS_TYPE%%'
    $delete.%%DEL_REPLICA%% = [bool]$in.deleteReplica
    $delete.%%DEL_DISCARD_QUEUE%% = $true
    $removed = %%REMOVE_DT_JOB%% -ServiceHost $server -JobId $job.%%JOB_ID%% -DeleteOptions $delete
    Wait-CarboniteAction -Server $server -Token $removed -What ('deleting job "' + $in.job + '"')
    $deadline = (Get-Date).AddSeconds([int]$in.actionTimeoutSeconds)
    while (@(%%GET_DT_JOB%% -ServiceHost $server -JobId $job.%%JOB_ID%%).Count -gt 0) {
        if ((Get-Date) -gt $deadline) { throw ('job "' + $in.job + '" is still listed after its deletion completed') }
        Start-Sleep -Seconds 2
    }
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

/// Guide "perform a manual failover": the job's state and `CanFailover` are read afresh, then
/// the recommended `FailoverOptions` get their mode and queue action.
const FAILOVER: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    [DoubleTake.Jobs.Contract.JobInfo]$job = Find-Job -Server $server -Name $in.job -Identity $in.identity
    $state = [string]$job.%%JOB_STATE%%
    if (-not ($in.allowedStates -contains $state)) {
        throw ('job "' + $in.job + '" is ' + $state + ' now; the failover was planned for ' + ($in.allowedStates -join ', '))
    }
    if (-not $job.%%JOB_CAN_FAILOVER%%) { throw ('Carbonite does not allow a failover of job "' + $in.job + '" now (CanFailover is false)') }
    $recommended = %%GET_DT_RECOMMENDED_FAILOVER_OPTIONS%% -ServiceHost $server -JobId $job.%%JOB_ID%%
    $failover = $recommended.%%REC_FAILOVER_OPTIONS%%
    if ($in.mode -eq 'test') {
        if (-not $recommended.%%REC_TEST_SUPPORTED%%) { throw ('job "' + $in.job + '" does not support a test failover') }
        $failover.%%FO_MODE%% = '%%FO_MODE_TEST%%'
        $failover.%%FO_PERFORM_TEST%% = $true
    } else {
        $failover.%%FO_MODE%% = '%%FO_MODE_LIVE%%'
        $failover.%%FO_PERFORM_TEST%% = $false
    }
    if ($in.applyQueuedData) {
        $failover.%%FO_DATA_ACTION%% = '%%FO_DATA_APPLY%%'
    } else {
        $failover.%%FO_DATA_ACTION%% = '%%FO_DATA_FLUSH%%'
    }
    $started = %%START_DT_JOB_FAILOVER%% -ServiceHost $server -JobId $job.%%JOB_ID%% -FailoverOptions $failover
    Wait-CarboniteAction -Server $server -Token $started -What ('the ' + $in.mode + ' failover of job "' + $in.job + '"')
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

/// Ends a test failover, where Carbonite allows it (`CanUndoFailover`).
const END_TEST_FAILOVER: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    [DoubleTake.Jobs.Contract.JobInfo]$job = Find-Job -Server $server -Name $in.job -Identity $in.identity
    if (-not $job.%%JOB_CAN_UNDO_FAILOVER%%) {
        throw ('Carbonite cannot end the test failover of job "' + $in.job + '" (CanUndoFailover is false; it is ' + [string]$job.%%JOB_STATE%% + ')')
    }
    $undone = %%UNDO_DT_JOB_FAILOVER%% -ServiceHost $server -JobId $job.%%JOB_ID%%
    Wait-CarboniteAction -Server $server -Token $undone -What ('ending the test failover of job "' + $in.job + '"')
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

const STOP_VM: &str = r#"
$system = 'Hyper-V'
$vm = Find-Vm -Name $in.vm
if ([string]$vm.State -ne 'Off') {
    if ($in.turnOff) {
        Stop-VM -VM $vm -TurnOff -Force
    } else {
        Stop-VM -VM $vm -Force
    }
}
"#;

/// Removes the VM's Hyper-V configuration, as the guide does; its virtual disks stay where
/// they are, and the script prints their paths so that the controller can say so.
const REMOVE_VM: &str = r#"
$system = 'Hyper-V'
$vm = Find-Vm -Name $in.vm
if ([string]$vm.State -ne 'Off') {
    throw ('cannot remove virtual machine "' + $vm.Name + '": it is ' + [string]$vm.State + '; stop it first')
}
$disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
Remove-VM -VM $vm -Force
return (ConvertTo-Json -InputObject ([pscustomobject]@{ vm = [string]$in.vm; keptDisks = $disks }) -Compress)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_kind_but_an_alert_has_a_script_and_every_script_one_name() {
        for kind in ActionKind::ALL {
            let script_kind = ScriptKind::of(kind);
            assert_eq!(script_kind.is_none(), kind == ActionKind::Alert, "{kind:?}");
            if let Some(s) = script_kind {
                assert!(ScriptKind::all().contains(&s), "{kind:?}");
                assert!(!script(s).text.is_empty());
            }
        }
        let names: std::collections::BTreeSet<&str> =
            ScriptKind::all().iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ScriptKind::all().len());
        assert_eq!(ScriptKind::all().len(), 3 + ActionKind::ALL.len() - 2);
        assert_eq!(
            script(ScriptKind::Act(ActionKind::TestFailover)).kind,
            ScriptKind::Act(ActionKind::Failover)
        );
    }
}
