
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
    } elseif ($null -ne $in.snapshot) {
        # A live failover to one snapshot of the replica's data, which must still be kept.
        $snapshot = @(%%GET_DT_SNAPSHOT%% -ServiceHost $server -JobId $job.%%JOB_ID%% | Where-Object { [string]$_.%%SNAPSHOT_ID%% -eq [string]$in.snapshot })
        if ($snapshot.Count -eq 0) { throw ('job "' + $in.job + '" has no snapshot ' + [string]$in.snapshot + ' now') }
        $failover.%%FO_MODE%% = '%%FO_MODE_SNAPSHOT%%'
        $failover.%%FO_SNAPSHOT_ID%% = $snapshot[0].%%SNAPSHOT_ID%%
        $failover.%%FO_PERFORM_TEST%% = $false
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
    Disconnect-DoubleTake -Server $server
}
