
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
    Disconnect-DoubleTake -Server $server
}
