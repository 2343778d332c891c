
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    [DoubleTake.Jobs.Contract.JobInfo]$job = Find-Job -Server $server -Name $in.job -Identity $in.identity
    $options = $job.Options
    Set-Monitor -Options $options -Monitor $in.monitor
    Set-SnapshotSchedule -Options $options -Snapshots $in.snapshots
    $edited = %%EDIT_DT_JOB%% -ServiceHost $server -JobId $job.%%JOB_ID%% -JobOptions $options
    Wait-CarboniteAction -Server $server -Token $edited -What ('editing job "' + $in.job + '"')
} finally {
    Disconnect-DoubleTake -Server $server
}
