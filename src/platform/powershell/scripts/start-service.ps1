
$action = {
    param($name)
    $ErrorActionPreference = 'Stop'
    $s = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $s) { $s = Get-Service -DisplayName $name }
    if ([string]$s.Status -ne 'Running') { Start-Service -InputObject $s }
}
if ($in.guest) {
    $null = Invoke-InRunningGuest -Block $action -Arguments @($in.service)
} else {
    & $action $in.service
}
