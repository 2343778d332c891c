
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
    Set-SnapshotSchedule -Options $options -Snapshots $in.snapshots
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
    Disconnect-DoubleTake -Server $source
    Disconnect-DoubleTake -Server $target
}
