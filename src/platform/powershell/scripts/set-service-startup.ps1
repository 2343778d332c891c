
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
    $null = Invoke-InRunningGuest -Block $action -Arguments @($in.service, $in.startup)
} else {
    & $action $in.service $in.startup
}
