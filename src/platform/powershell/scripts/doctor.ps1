
$checks = New-Object -TypeName System.Collections.ArrayList
function Add-Check {
    param($Name, $Ok, $Detail, $Fix)
    $null = $checks.Add([pscustomobject]@{ name = $Name; ok = [bool]$Ok; detail = [string]$Detail; fix = [string]$Fix })
}
$version = $PSVersionTable.PSVersion
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$build = [int]$os.BuildNumber
Add-Check -Name 'Windows Server 2012 R2 or later' -Ok ($build -ge 9600) -Detail ([string]$os.Caption + ' build ' + [string]$build) -Fix 'the guide supports Windows Server 2012 R2, 2016, 2019 and 2022 hosts'
Add-Check -Name 'Windows PowerShell 5.1' -Ok ($version -ge [version]'5.1') -Detail ('version ' + $version.ToString()) -Fix 'install Windows Management Framework 5.1'
$direct = 'PowerShell Direct (Windows Server 2016 or later)'
if ($build -lt 14393) { $direct = 'no PowerShell Direct before Windows Server 2016: the guest is reached over WinRM at its own address with the guest credential' }
Add-Check -Name 'guest access' -Ok $true -Detail $direct -Fix ''
$principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList ([System.Security.Principal.WindowsIdentity]::GetCurrent())
$admin = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
$hyperVAdmin = $principal.IsInRole((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-578'))
Add-Check -Name 'Hyper-V rights' -Ok ($admin -or $hyperVAdmin) -Detail ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name) -Fix 'add the account to the local Hyper-V Administrators group'
$dtAdmin = $false
try { $dtAdmin = $principal.IsInRole('Double-Take Admin') } catch { $dtAdmin = $false }
Add-Check -Name 'Double-Take rights' -Ok ($admin -or $dtAdmin) -Detail 'member of Double-Take Admin or Administrators' -Fix 'add the account to the local Double-Take Admin group'
$hyperV = @(Get-Module -ListAvailable -Name Hyper-V).Count -gt 0
Add-Check -Name 'Hyper-V module' -Ok $hyperV -Detail 'Get-Module -ListAvailable Hyper-V' -Fix 'Install-WindowsFeature -Name Hyper-V-PowerShell'
$firewallModule = @(Get-Module -ListAvailable -Name NetSecurity).Count -gt 0
Add-Check -Name 'NetSecurity module' -Ok $firewallModule -Detail 'Get-Module -ListAvailable NetSecurity' -Fix 'use Windows Server 2012 R2 or later'
foreach ($n in $in.services) {
    $s = Get-Service -Name $n -ErrorAction SilentlyContinue
    if ($null -eq $s) { $s = Get-Service -DisplayName $n -ErrorAction SilentlyContinue }
    $detail = 'not installed'
    if ($null -ne $s) { $detail = [string]$s.Status }
    Add-Check -Name ('service ' + $n) -Ok ($null -ne $s) -Detail $detail -Fix 'install Carbonite Availability (Double-Take) on this host'
}
$loaded = $false
$detail = ''
try {
    Import-DoubleTake -InstallPath $in.installPath
    $loaded = $true
    $detail = (Get-Command -Name '%%NEW_DT_SERVER%%').Source
} catch {
    $detail = $_.Exception.Message
}
Add-Check -Name 'DoubleTake PowerShell module' -Ok $loaded -Detail $detail -Fix 'install the Carbonite Replication Console or set spec.platform.powershell.installPath'
if ($loaded) {
    $connected = $false
    try {
        $server = Connect-DoubleTake -Address $in.address -Credential $cred
        $null = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
        Disconnect-DoubleTake -Server $server
        $connected = $true
        $detail = 'New-DtServer ' + $in.address
    } catch {
        $detail = $_.Exception.Message
    }
    Add-Check -Name 'Double-Take session to this host' -Ok $connected -Detail $detail -Fix 'check spec.platform.powershell.username/credentialFrom and the Double-Take Admin group'
    $guestOk = $false
    try {
        $guest = Connect-Guest
        Disconnect-DoubleTake -Server $guest
        $guestOk = $true
        $detail = 'New-DtServer ' + $in.vmAddress
    } catch {
        $detail = $_.Exception.Message
    }
    Add-Check -Name 'Double-Take session to the System Galaxy guest' -Ok $guestOk -Detail $detail -Fix 'set spec.platform.powershell.guestUsername and guestCredentialFrom to an account in the guest Double-Take Admin group; open 6325 in the guest'
}
$doc = [pscustomobject]@{ computerName = $env:COMPUTERNAME; psVersion = $version.ToString(); osBuild = $build; checks = @($checks) }
return (ConvertTo-Json -InputObject $doc -Depth 4 -Compress)
