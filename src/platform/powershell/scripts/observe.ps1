
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
            $schedule = $j.Options.%%OPT_SNAPSHOT_SCHEDULE%%
            $snapshotSchedule = $null
            if ($null -ne $schedule) {
                $snapshotSchedule = [pscustomobject]@{
                    enabled = [bool]$schedule.%%SNAP_ENABLED%%
                    intervalSeconds = $schedule.%%SNAP_INTERVAL%%.TotalSeconds
                    maxSnapshots = $schedule.%%SNAP_MAX%%
                }
            }
            # A job whose snapshots cannot be listed leaves the rest of the host readable.
            $snapshots = @()
            $snapshotError = $null
            try {
                foreach ($snap in @(%%GET_DT_SNAPSHOT%% -ServiceHost $server -JobId $j.%%JOB_ID%%)) {
                    $snapshots += [pscustomobject]@{
                        id = [string]$snap.%%SNAPSHOT_ID%%
                        at = $snap.%%SNAPSHOT_TIME%%.ToString('o')
                        states = [string]$snap.%%SNAPSHOT_STATES%%
                        reason = [string]$snap.%%SNAPSHOT_REASON%%
                    }
                }
            } catch {
                $snapshotError = $_.Exception.Message
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
                snapshotSchedule = $snapshotSchedule
                snapshots = $snapshots
                snapshotError = $snapshotError
            }
        }
    } finally {
        Disconnect-DoubleTake -Server $server
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
