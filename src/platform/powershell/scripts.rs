//! The scripts: one constant text per operation kind, plus observe and doctor. No manifest
//! value is ever part of a script's text; values arrive as JSON on standard input.
//!
//! Every script is the same wrapper around a body. The wrapper reads the envelope
//! (`{computer, remote, credential, input}`) from standard input, builds a `PSCredential`
//! from it when there is one, and runs the body here (`& $body`) or on the host
//! (`Invoke-Command -ComputerName`). Bodies print one JSON document (observe, doctor) or
//! nothing. Failures: exit 3 with `unreachable|message` when the host cannot be reached,
//! exit 2 with `SYSTEM|message` when Carbonite, Hyper-V or Windows refused.

use std::sync::LazyLock;

use super::names;

/// What a script does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScriptKind {
    Observe,
    Doctor,
    StartService,
    SetServiceStartup,
    OpenFirewallPort,
    SetEmailNotification,
    CreateJob,
    UpdateJob,
    DeleteJob,
    RemoveVm,
    StopVm,
    Failover,
}

impl ScriptKind {
    pub const ALL: [ScriptKind; 12] = [
        ScriptKind::Observe,
        ScriptKind::Doctor,
        ScriptKind::StartService,
        ScriptKind::SetServiceStartup,
        ScriptKind::OpenFirewallPort,
        ScriptKind::SetEmailNotification,
        ScriptKind::CreateJob,
        ScriptKind::UpdateJob,
        ScriptKind::DeleteJob,
        ScriptKind::RemoveVm,
        ScriptKind::StopVm,
        ScriptKind::Failover,
    ];

    /// A stable name (snapshot names, logs, temp file names).
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Observe => "observe",
            ScriptKind::Doctor => "doctor",
            ScriptKind::StartService => "start-service",
            ScriptKind::SetServiceStartup => "set-service-startup",
            ScriptKind::OpenFirewallPort => "open-firewall-port",
            ScriptKind::SetEmailNotification => "set-email-notification",
            ScriptKind::CreateJob => "create-job",
            ScriptKind::UpdateJob => "update-job",
            ScriptKind::DeleteJob => "delete-job",
            ScriptKind::RemoveVm => "remove-vm",
            ScriptKind::StopVm => "stop-vm",
            ScriptKind::Failover => "failover",
        }
    }

    fn body(self) -> &'static str {
        match self {
            ScriptKind::Observe => OBSERVE,
            ScriptKind::Doctor => DOCTOR,
            ScriptKind::StartService => START_SERVICE,
            ScriptKind::SetServiceStartup => SET_SERVICE_STARTUP,
            ScriptKind::OpenFirewallPort => OPEN_FIREWALL_PORT,
            ScriptKind::SetEmailNotification => SET_EMAIL_NOTIFICATION,
            ScriptKind::CreateJob => CREATE_JOB,
            ScriptKind::UpdateJob => UPDATE_JOB,
            ScriptKind::DeleteJob => DELETE_JOB,
            ScriptKind::RemoveVm => REMOVE_VM,
            ScriptKind::StopVm => STOP_VM,
            ScriptKind::Failover => FAILOVER,
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
    ScriptKind::ALL
        .iter()
        .map(|&kind| Script {
            kind,
            text: generate(kind),
        })
        .collect()
});

/// The script of a kind (generated once).
pub fn script(kind: ScriptKind) -> &'static Script {
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
    param($in, $cred)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    # Windows PowerShell 5.1 writes some arrays as {"value": [...], "Count": n} without this.
    Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue
    $system = 'Windows'
    try {
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
        $user = $Credential.UserName
        $password = $Credential.GetNetworkCredential().Password
        return %%NEW_DT_SERVER%% -Name $Address -UserName $user -Password $password
    }
    return %%NEW_DT_SERVER%% -Name $Address
}

function ConvertTo-Milliseconds {
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [TimeSpan]) { return [long]$Value.TotalMilliseconds }
    return [long]$Value
}

function Set-Duration {
    param($Object, $Property, $Seconds)
    if ($Object.$Property -is [TimeSpan]) {
        $Object.$Property = [TimeSpan]::FromSeconds($Seconds)
    } else {
        $Object.$Property = $Seconds
    }
}

function Find-Job {
    param($Server, $Name)
    $found = @(%%GET_DT_JOB%% -ServiceHost $Server | Where-Object { $_.%%JOB_NAME%% -eq $Name })
    if ($found.Count -eq 0) { throw ('no job named "' + $Name + '" on ' + $env:COMPUTERNAME) }
    return $found[0]
}

function Set-Monitor {
    param($Options, $Monitor)
    $config = $Options.%%OPT_MONITOR%%
    $config.%%MON_PROCESSING_OPTIONS%% = %%MON_USER_INTERVENTION%%
    Set-Duration -Object $config -Property '%%MON_INTERVAL%%' -Seconds $Monitor.intervalSeconds
    if ($null -ne $Monitor.consecutiveFailures) {
        $config.%%MON_USE_ATTEMPTS%% = $true
        $config.%%MON_ATTEMPTS%% = [int]$Monitor.consecutiveFailures
    } else {
        $config.%%MON_USE_ATTEMPTS%% = $false
        Set-Duration -Object $config -Property '%%MON_TOTAL_TIME%%' -Seconds $Monitor.totalTimeSeconds
    }
}

function Find-Vm {
    param($Name)
    $found = @(Get-VM | Where-Object { $_.Name -eq $Name })
    if ($found.Count -eq 0) { throw ('Hyper-V was unable to find a virtual machine with name "' + $Name + '"') }
    return $found[0]
}

function Invoke-InGuest {
    param($Block, $Arguments)
    $running = @(Get-VM | Where-Object { [string]$_.State -eq 'Running' -and ($in.vmNames -contains $_.Name) })
    if ($running.Count -eq 0) { throw 'no running System Galaxy virtual machine on this host' }
    if ($null -ne $cred) {
        return Invoke-Command -VMName $running[0].Name -Credential $cred -ScriptBlock $Block -ArgumentList $Arguments
    }
    return Invoke-Command -ComputerName $in.vmAddress -ScriptBlock $Block -ArgumentList $Arguments
}

"#;

/// Closes the body and runs it here or on the host; prints what it returned.
const POSTAMBLE: &str = r#"
    } catch {
        throw ($system + '|' + $_.Exception.Message)
    }
}
$cred = $null
if ($null -ne $envelope.credential) {
    $secure = ConvertTo-SecureString -String $envelope.credential.password -AsPlainText -Force
    $cred = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $envelope.credential.username, $secure
}
try {
    if ($envelope.remote) {
        $params = @{ ComputerName = $envelope.computer; ScriptBlock = $body; ArgumentList = @($envelope.input, $cred) }
        if ($null -ne $cred) { $params.Credential = $cred }
        $out = Invoke-Command @params
    } else {
        $out = & $body $envelope.input $cred
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

/// Everything `Observed` holds about one host, as one JSON document.
const OBSERVE: &str = r#"
$probe = {
    param($names)
    foreach ($n in $names) {
        $s = Get-Service -Name $n -ErrorAction SilentlyContinue
        if ($null -eq $s) { $s = Get-Service -DisplayName $n -ErrorAction SilentlyContinue }
        if ($null -eq $s) { continue }
        $delayed = $false
        $reg = Get-ItemProperty -LiteralPath ('HKLM:\SYSTEM\CurrentControlSet\Services\' + $s.Name) -ErrorAction SilentlyContinue
        if ($null -ne $reg -and $reg.DelayedAutostart -eq 1) { $delayed = $true }
        [pscustomobject]@{ name = $n; status = [string]$s.Status; startType = [string]$s.StartType; delayedAutoStart = $delayed }
    }
}
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
    if ($state -eq 'Running' -and -not $isolated) {
        try {
            if ($null -ne $cred) {
                $raw = Invoke-Command -VMName $vm.Name -Credential $cred -ScriptBlock $probe -ArgumentList (,@($in.services))
            } else {
                $raw = Invoke-Command -ComputerName $in.vmAddress -ScriptBlock $probe -ArgumentList (,@($in.services))
            }
            $guest = @($raw | ForEach-Object { [pscustomobject]@{ name = [string]$_.name; status = [string]$_.status; startType = [string]$_.startType; delayedAutoStart = [bool]$_.delayedAutoStart } })
        } catch {
            $guest = $null
        }
    }
    $vms += [pscustomobject]@{ name = $vm.Name; state = $state; isolated = $isolated; guestServices = $guest }
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
            $email = [pscustomobject]@{
                server = [string]$mail.%%MAIL_SERVER%%
                port = [int]$mail.%%MAIL_PORT%%
                security = [string]$mail.%%MAIL_SECURITY%%
                username = [string]$mail.%%MAIL_USERNAME%%
                from = [string]$mail.%%MAIL_FROM%%
                to = @(@($mail.%%MAIL_TO%%) | ForEach-Object { [string]$_ })
                subjectPrefix = [string]$mail.%%MAIL_SUBJECT_PREFIX%%
                addEventDescription = [bool]$mail.%%MAIL_ADD_DESCRIPTION%%
                include = @(([string]$mail.%%MAIL_INCLUDE%%) -split ',\s*' | Where-Object { $_ })
                excludeEventIds = [string]$mail.%%MAIL_EXCLUDE%%
            }
        }
        foreach ($j in @(%%GET_DT_JOB%% -ServiceHost $server)) {
            $conn = @($j.%%JOB_CONNECTIONS%%)[0]
            $mon = $j.%%JOB_MONITOR_OPTIONS%%
            $status = @($j.%%JOB_MONITOR_STATUSES%%)[0]
            $monitorStatus = $null
            if ($null -ne $status) {
                $monitorStatus = [pscustomobject]@{
                    alive = [bool]$status.%%MON_ALIVE%%
                    failoverConditionMet = [bool]$status.%%MON_CONDITION_MET%%
                    warningConditionMet = [bool]$status.%%MON_WARNING_MET%%
                    remainingMs = (ConvertTo-Milliseconds -Value $status.%%MON_REMAINING%%)
                }
            }
            $jobs += [pscustomobject]@{
                id = [string]$j.%%JOB_ID%%
                name = [string]$j.%%JOB_NAME%%
                replicaName = [string]$j.%%JOB_REPLICA_NAME%%
                highLevelState = [string]$j.%%JOB_STATE%%
                health = [string]$j.%%JOB_HEALTH%%
                permillageComplete = $j.%%JOB_PERMILLAGE%%
                targetState = [string]$j.%%JOB_TARGET_STATE%%
                mirrorBytesRemaining = $conn.%%CONN_MIRROR_REMAINING%%
                replicationBytesQueued = $conn.%%CONN_REPLICATION_QUEUED%%
                diskQueueBytes = $conn.%%CONN_DISK_QUEUE%%
                targetQueueBytes = $conn.%%CONN_TARGET_QUEUE%%
                recoveryPointLatencyMs = (ConvertTo-Milliseconds -Value $conn.%%CONN_LATENCY%%)
                totalBytesSent = $conn.%%CONN_BYTES_SENT%%
                startTime = $conn.%%CONN_START_TIME%%
                monitor = [pscustomobject]@{
                    intervalMs = (ConvertTo-Milliseconds -Value $mon.%%MON_INTERVAL%%)
                    totalTimeMs = (ConvertTo-Milliseconds -Value $mon.%%MON_TOTAL_TIME%%)
                    consecutiveFailures = $mon.%%MON_ATTEMPTS%%
                    useConsecutiveFailures = [bool]$mon.%%MON_USE_ATTEMPTS%%
                    waitForUser = ([int]$mon.%%MON_PROCESSING_OPTIONS%% -eq %%MON_USER_INTERVENTION%%)
                }
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
    formatVersion = 1
    computerName = $env:COMPUTERNAME
    psVersion = $PSVersionTable.PSVersion.ToString()
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
Add-Check -Name 'Windows PowerShell 5.1' -Ok ($version -ge [version]'5.1') -Detail ('version ' + $version.ToString()) -Fix 'install Windows Management Framework 5.1'
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
$doc = [pscustomobject]@{ computerName = $env:COMPUTERNAME; psVersion = $version.ToString(); checks = @($checks) }
return (ConvertTo-Json -InputObject $doc -Depth 4 -Compress)
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
    $null = Invoke-InGuest -Block $action -Arguments @($in.service)
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
    $null = Invoke-InGuest -Block $action -Arguments @($in.service, $in.startup)
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

const SET_EMAIL_NOTIFICATION: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    $mail = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
    $mail.%%MAIL_ENABLED%% = $true
    $mail.%%MAIL_SERVER%% = $in.settings.server
    $mail.%%MAIL_PORT%% = [int]$in.settings.port
    $mail.%%MAIL_SECURITY%% = $in.settings.security
    $mail.%%MAIL_USERNAME%% = $in.settings.username
    if ($null -ne $in.password) { $mail.%%MAIL_PASSWORD%% = $in.password }
    $mail.%%MAIL_FROM%% = $in.settings.from
    $mail.%%MAIL_TO%% = [string[]]@($in.settings.to)
    $mail.%%MAIL_SUBJECT_PREFIX%% = $in.settings.subjectPrefix
    $mail.%%MAIL_ADD_DESCRIPTION%% = [bool]$in.settings.addEventDescription
    $mail.%%MAIL_INCLUDE%% = (@($in.settings.include) -join ', ')
    $mail.%%MAIL_EXCLUDE%% = $in.settings.excludeEventIds
    %%SET_DT_EMAIL_OPTIONS%% -ServiceHost $server -%%MAIL_OPTIONS_PARAM%% $mail
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

const CREATE_JOB: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$source = Connect-DoubleTake -Address $in.sourceAddress -Credential $cred
$target = Connect-DoubleTake -Address $in.targetAddress -Credential $cred
try {
    $workloadId = %%NEW_DT_WORKLOAD%% -ServiceHost $source -WorkloadTypeName '%%JOB_TYPE%%'
    $workload = %%GET_DT_WORKLOAD%% -ServiceHost $source -WorkloadId $workloadId
    $recommended = %%GET_DT_RECOMMENDED_JOB_OPTIONS%% -ServiceHost $target -Source $source -JobType '%%JOB_TYPE%%' -Workload $workload
    $options = $recommended.JobOptions
    $options.%%OPT_NAME%% = $in.name
    $options.%%OPT_REPLICA_NAME%% = $in.replica
    $options.%%OPT_REPLICA_PATH%% = $in.replicaPath
    Set-Monitor -Options $options -Monitor $in.monitor
    $problems = @(%%CONFIRM_DT_JOB_OPTIONS%% -ServiceHost $target -Source $source -JobType '%%JOB_TYPE%%' -JobOptions $options | Where-Object { [string]$_.Status -eq 'Error' })
    if ($problems.Count -gt 0) {
        throw ('the job options were refused: ' + (@($problems | ForEach-Object { [string]$_.Message }) -join '; '))
    }
    $jobId = %%NEW_DT_JOB%% -ServiceHost $target -Source $source -JobType '%%JOB_TYPE%%' -JobOptions $options
    %%START_DT_JOB%% -ServiceHost $target -JobId $jobId
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
    $job = Find-Job -Server $server -Name $in.job
    $options = $job.Options
    Set-Monitor -Options $options -Monitor $in.monitor
    %%EDIT_DT_JOB%% -ServiceHost $server -JobId $job.%%JOB_ID%% -JobOptions $options
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

const DELETE_JOB: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    $job = Find-Job -Server $server -Name $in.job
    $options = New-Object -TypeName '%%DEL_OPTIONS_TYPE%%'
    $options.%%DEL_REPLICA%% = [bool]$in.deleteReplica
    $options.%%DEL_DISCARD_QUEUE%% = $true
    %%REMOVE_DT_JOB%% -ServiceHost $server -JobId $job.%%JOB_ID%% -DeleteOptions $options
} finally {
    %%DISCONNECT_DT_SERVER%% -ServiceHost $server
}
"#;

const FAILOVER: &str = r#"
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    $job = Find-Job -Server $server -Name $in.job
    $options = %%GET_DT_RECOMMENDED_FAILOVER_OPTIONS%% -ServiceHost $server -JobId $job.%%JOB_ID%%
    if ($in.mode -eq 'test') {
        $options.%%FO_TYPE%% = '%%FO_TYPE_TEST%%'
    } else {
        $options.%%FO_TYPE%% = '%%FO_TYPE_LIVE%%'
    }
    if ($in.applyQueuedData) {
        $options.%%FO_QUEUE%% = '%%FO_QUEUE_APPLY%%'
    } else {
        $options.%%FO_QUEUE%% = '%%FO_QUEUE_DISCARD%%'
    }
    %%START_DT_JOB_FAILOVER%% -ServiceHost $server -JobId $job.%%JOB_ID%% -FailoverOptions $options
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

const REMOVE_VM: &str = r#"
$system = 'Hyper-V'
$vm = Find-Vm -Name $in.vm
if ([string]$vm.State -ne 'Off') {
    throw ('cannot remove virtual machine "' + $vm.Name + '": it is ' + [string]$vm.State + '; stop it first')
}
$disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { $_.Path })
Remove-VM -VM $vm -Force
foreach ($disk in $disks) {
    if ($disk -and (Test-Path -LiteralPath $disk)) { Remove-Item -LiteralPath $disk -Force }
}
"#;
