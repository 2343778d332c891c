
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
# Every integration service with its status words, as this host's Hyper-V (and language)
# writes them: observe reads the one named 'Heartbeat' and its PrimaryStatusDescription.
$vms = @(Get-VM | Where-Object { $in.vmNames -contains $_.Name } | ForEach-Object { [pscustomobject]@{ Name = $_.Name; State = $_.State; Generation = $_.Generation; Version = [string]$_.Version; Switches = @(Get-VMNetworkAdapter -VM $_ | ForEach-Object { [string]$_.SwitchName }); IntegrationServices = @(Get-VMIntegrationService -VM $_ -ErrorAction SilentlyContinue | Select-Object -Property Name, Id, Enabled, PrimaryStatusDescription, PrimaryOperationalStatus, SecondaryStatusDescription, SecondaryOperationalStatus) } })
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
        $snapshots = @()
        foreach ($j in $all) {
            $failover += [pscustomobject]@{ JobId = [string]$j.%%JOB_ID%%; Options = (%%GET_DT_RECOMMENDED_FAILOVER_OPTIONS%% -ServiceHost $server -JobId $j.%%JOB_ID%%) }
            $entries = $null
            $snapshotError = $null
            try { $entries = @(%%GET_DT_SNAPSHOT%% -ServiceHost $server -JobId $j.%%JOB_ID%%) } catch { $snapshotError = $_.Exception.Message }
            $snapshots += [pscustomobject]@{ JobId = [string]$j.%%JOB_ID%%; Entries = $entries; Error = $snapshotError }
        }
        # What observe reads of Carbonite's activation, unformatted, without the activation
        # codes themselves (licence keys) and their serial numbers.
        $activation = $null
        $activationError = $null
        try {
            $activationStatus = %%GET_DT_ACTIVATION_STATUS%% -ServiceHost $server
            if ($null -ne $activationStatus) {
                $activation = [pscustomobject]@{
                    %%ACT_IS_VALID%% = $activationStatus.%%ACT_IS_VALID%%
                    %%ACT_CODES%% = @(@($activationStatus.%%ACT_CODES%%) | Where-Object { $null -ne $_ } | Select-Object -Property * -ExcludeProperty %%CODE_KEY%%, %%CODE_SERIAL%%)
                }
            }
        } catch {
            $activationError = $_.Exception.Message
        }
        $carbonite = [pscustomobject]@{ Jobs = $all; RecommendedFailoverOptions = $failover; Snapshots = $snapshots; EmailNotificationOptions = $mail; ActivationStatus = $activation; ActivationError = $activationError }
    } finally {
        Disconnect-DoubleTake -Server $server
    }
} catch {
    $dtError = $_.Exception.Message
}
$guestJobs = $null
if ($running.Count -gt 0 -and $null -ne $guestCred) {
    try {
        $guest = Connect-Guest
        try { $guestJobs = @(%%GET_DT_JOB%% -ServiceHost $guest) } finally { Disconnect-DoubleTake -Server $guest }
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
