$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$envelope = [Console]::In.ReadToEnd() | ConvertFrom-Json
$body = {
    # $keep: the script runs in a warm session, which keeps its connections for the next.
    param($in, $cred, $guestCred, $keep)
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    # Windows PowerShell 5.1 writes some arrays as {"value": [...], "Count": n} without this.
    Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue
    $system = 'Windows'
    try {
        if ($PSVersionTable.PSVersion -lt [version]'5.1') {
            throw ('Windows PowerShell 5.1 is needed on ' + $env:COMPUTERNAME + ', which has ' + $PSVersionTable.PSVersion.ToString() + ': install Windows Management Framework 5.1')
        }
        if ([int](Get-CimInstance -ClassName Win32_OperatingSystem).BuildNumber -lt 9600) {
            throw ($env:COMPUTERNAME + ' runs a Windows older than Windows Server 2012 R2, which galaxy-ha does not support (see docs/preparing-hosts.md)')
        }
