
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
    Disconnect-DoubleTake -Server $server
}
