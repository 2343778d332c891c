
# Of $ports, those a guest listens on (TCP) or has bound (UDP), in the order asked.
$portProbe = {
    param($ports)
    $tcp = @()
    $udp = @()
    # No listener at all is an answer (ObjectNotFound), not a failure.
    try {
        $tcp = @(Get-NetTCPConnection -State Listen -ErrorAction Stop | ForEach-Object { [int]$_.LocalPort })
    } catch {
        if ([string]$_.CategoryInfo.Category -ne 'ObjectNotFound') { throw }
    }
    try {
        $udp = @(Get-NetUDPEndpoint -ErrorAction Stop | ForEach-Object { [int]$_.LocalPort })
    } catch {
        if ([string]$_.CategoryInfo.Category -ne 'ObjectNotFound') { throw }
    }
    foreach ($p in $ports) {
        if (($tcp -contains [int]$p) -or ($udp -contains [int]$p)) { [int]$p }
    }
}

$os = Get-CimInstance -ClassName Win32_OperatingSystem
$services = @(& $probe $in.services)

# Room for a failover here: physical memory free now (FreePhysicalMemory is in KB), and free
# space on the volume of the replica's files, the drive of this host's replicaPath (D:).
$memoryFree = $null
if ($null -ne $os.FreePhysicalMemory) { $memoryFree = [uint64]$os.FreePhysicalMemory * [uint64]1024 }
$drive = $null
$volumeFree = $null
$volumeError = $null
try {
    $drive = Split-Path -Path $in.replicaPath -Qualifier
    $volume = @(Get-CimInstance -ClassName Win32_LogicalDisk | Where-Object { [string]$_.DeviceID -eq $drive })
    if ($volume.Count -eq 0 -or $null -eq $volume[0].FreeSpace) { throw ('no volume ' + $drive + ' holds the replica path') }
    $volumeFree = [uint64]$volume[0].FreeSpace
} catch {
    $volumeError = $_.Exception.Message
}
$replicaVolume = [pscustomobject]@{ drive = $drive; freeBytes = $volumeFree; error = $volumeError }

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
    $heartbeat = $null
    $guest = $null
    $listening = $null
    $guestError = $null
    if ($state -eq 'Running') {
        # Hyper-V's own word on the guest ('OK' once it answers), read from the host.
        try {
            $beat = Get-VMIntegrationService -VM $vm -Name 'Heartbeat'
            if ($null -ne $beat -and $beat.PrimaryStatusDescription) { $heartbeat = [string]$beat.PrimaryStatusDescription }
        } catch {
            $heartbeat = $null
        }
        # A VM with its network is System Galaxy: the site's services. An isolated one is a
        # drill's test replica: what the drill checks (spec.vm.services and spec.vm.ports),
        # through PowerShell Direct only, for the guest's address is the live VM's.
        $names = $in.services
        if ($isolated) { $names = $in.vmServices }
        try {
            $raw = Invoke-InGuest -VmName $vm.Name -Block $probe -Arguments (,@($names)) -DirectOnly:$isolated
            $guest = @($raw | ForEach-Object { [pscustomobject]@{ name = [string]$_.name; status = [string]$_.status; startType = [string]$_.startType; startValue = $_.startValue; delayedAutoStart = [bool]$_.delayedAutoStart } })
            if ($isolated) {
                $found = Invoke-InGuest -VmName $vm.Name -Block $portProbe -Arguments (,@($in.vmPorts)) -DirectOnly
                $listening = @($found | ForEach-Object { [int]$_ })
            }
        } catch {
            $guestError = $_.Exception.Message
        }
    }
    $disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
    # What the VM needs wherever it runs: the memory it starts with, and its virtual disks'
    # virtual size (Get-VHD's Size). A disk without a file (a physical disk) leaves it unknown.
    $memory = $null
    if ($null -ne $vm.MemoryStartup) { $memory = [uint64]$vm.MemoryStartup }
    $diskBytes = $null
    $sizeError = $null
    try {
        if (@($disks | Where-Object { -not $_ }).Count -gt 0) { throw 'a virtual disk has no file (a physical disk): its size is not read' }
        $total = [uint64]0
        if ($disks.Count -gt 0) {
            foreach ($vhd in @(Get-VHD -Path $disks)) { $total += [uint64]$vhd.Size }
        }
        $diskBytes = $total
    } catch {
        $sizeError = $_.Exception.Message
    }
    $vms += [pscustomobject]@{ name = $vm.Name; state = $state; isolated = $isolated; heartbeat = $heartbeat; guestServices = $guest; listening = $listening; guestError = $guestError; disks = $disks; memoryBytes = $memory; diskBytes = $diskBytes; sizeError = $sizeError }
}

$system = 'Carbonite'
$email = $null
$jobs = @()
$licence = $null
$dtError = $null
try {
    Import-DoubleTake -InstallPath $in.installPath
    $server = Connect-DoubleTake -Address $in.address -Credential $cred
    try {
        # Carbonite's activation here. One that cannot be read leaves the rest readable.
        try {
            $activation = %%GET_DT_ACTIVATION_STATUS%% -ServiceHost $server
            if ($null -eq $activation) { throw '%%GET_DT_ACTIVATION_STATUS%% answered nothing' }
            $codes = @()
            foreach ($code in $activation.%%ACT_CODES%%) {
                $codes += [pscustomobject]@{
                    product = [string]$code.%%CODE_PRODUCT%%
                    licenseType = [string]$code.%%CODE_LICENSE_TYPE%%
                    isValid = [bool]$code.%%CODE_IS_VALID%%
                    isExpired = [bool]$code.%%CODE_IS_EXPIRED%%
                    isEvaluation = [bool]$code.%%CODE_IS_EVALUATION%%
                    expires = $code.%%CODE_EXPIRATION%%.ToString('yyyy-MM-dd', [System.Globalization.CultureInfo]::InvariantCulture)
                }
            }
            $licence = [pscustomobject]@{ isValid = [bool]$activation.%%ACT_IS_VALID%%; codes = $codes; error = $null }
        } catch {
            $licence = [pscustomobject]@{ isValid = $null; codes = @(); error = $_.Exception.Message }
        }
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
    memoryFreeBytes = $memoryFree
    replicaVolume = $replicaVolume
    licence = $licence
}
return (ConvertTo-Json -InputObject $doc -Depth 6 -Compress)
