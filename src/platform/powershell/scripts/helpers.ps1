
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

# In a warm session each Double-Take server is connected to once and the connection kept for
# the next script; a script run alone connects afresh and disconnects when it is done.
function Connect-DoubleTake {
    param($Address, $Credential)
    if ($null -eq $global:GalaxyHaDtServers) { $global:GalaxyHaDtServers = @{} }
    $user = ''
    if ($null -ne $Credential) { $user = $Credential.UserName }
    $key = [string]$Address + '|' + $user
    if (-not ($keep -and $global:GalaxyHaDtServers.ContainsKey($key))) {
        if ($null -ne $Credential) {
            $global:GalaxyHaDtServers[$key] = %%NEW_DT_SERVER%% -Name $Address -Credential $Credential
        } else {
            $global:GalaxyHaDtServers[$key] = %%NEW_DT_SERVER%% -Name $Address
        }
    }
    return [DoubleTake.PowerShell.Server]$global:GalaxyHaDtServers[$key]
}

function Disconnect-DoubleTake {
    param([DoubleTake.PowerShell.Server]$Server)
    if ($keep) { return }
    %%DISCONNECT_DT_SERVER%% -ServiceHost $Server
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

# The job's snapshot schedule: $Snapshots ({everySeconds, keep}) turns it on, $null off.
function Set-SnapshotSchedule {
    param([DoubleTake.Jobs.Contract.JobOptions]$Options, $Snapshots)
    $schedule = $Options.%%OPT_SNAPSHOT_SCHEDULE%%
    if ($null -eq $Snapshots) {
        if ($null -ne $schedule) { $schedule.%%SNAP_ENABLED%% = $false }
        return
    }
    if ($null -eq $schedule) {
        $schedule = New-Object -TypeName '%%SNAP_SCHEDULE_TYPE%%'
        $Options.%%OPT_SNAPSHOT_SCHEDULE%% = $schedule
    }
    # A schedule turned on begins now; one already on keeps its rhythm.
    if (-not $schedule.%%SNAP_ENABLED%%) { $schedule.%%SNAP_START_TIME%% = Get-Date }
    $schedule.%%SNAP_INTERVAL%% = [TimeSpan]::FromSeconds([double]$Snapshots.everySeconds)
    $schedule.%%SNAP_MAX%% = [int]$Snapshots.keep
    $schedule.%%SNAP_ENABLED%% = $true
}

function Find-Vm {
    param($Name)
    $found = @(Get-VM | Where-Object { $_.Name -eq $Name })
    if ($found.Count -eq 0) { throw ('Hyper-V was unable to find a virtual machine with name "' + $Name + '"') }
    return $found[0]
}

# -DirectOnly: PowerShell Direct or nothing. An isolated test replica has no network, and
# the guest address WinRM would use is the live System Galaxy VM's: reaching it would read
# the live guest and report it as the replica's.
function Invoke-InGuest {
    param($VmName, $Block, $Arguments, [switch]$DirectOnly)
    if ($null -eq $guestCred) {
        throw 'reaching the System Galaxy guest needs the guest credential: set spec.platform.powershell.guestUsername and guestCredentialFrom'
    }
    if ((Get-OsBuild) -ge 14393) {
        $key = 'vm|' + $VmName
        $open = @{ VMName = $VmName; Credential = $guestCred }
    } elseif ($DirectOnly) {
        throw 'PowerShell Direct needs Windows Server 2016 or later: an isolated test replica cannot be reached over the network'
    } else {
        # Windows Server 2012 R2 has no PowerShell Direct: WinRM to the guest's own address,
        # with the guest's credential given explicitly (nothing is delegated).
        $key = 'address|' + [string]$in.vmAddress
        $open = @{ ComputerName = $in.vmAddress; Credential = $guestCred }
    }
    if (-not $keep) {
        return Invoke-Command @open -ScriptBlock $Block -ArgumentList $Arguments
    }
    # In a warm session the guest's session is kept while it is open (a failover or a restart
    # of the guest breaks it; the next script opens another).
    if ($null -eq $global:GalaxyHaGuestSessions) { $global:GalaxyHaGuestSessions = @{} }
    $session = $global:GalaxyHaGuestSessions[$key]
    if ($null -eq $session -or [string]$session.State -ne 'Opened') {
        if ($null -ne $session) { Remove-PSSession -Session $session -ErrorAction SilentlyContinue }
        $session = New-PSSession @open
        $global:GalaxyHaGuestSessions[$key] = $session
    }
    return Invoke-Command -Session $session -ScriptBlock $Block -ArgumentList $Arguments
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

