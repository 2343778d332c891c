
    } catch {
        throw ($system + '|' + $_.Exception.Message)
    }
}
function ConvertTo-Credential {
    param($Pair)
    if ($null -eq $Pair) { return $null }
    $secure = ConvertTo-SecureString -String $Pair.password -AsPlainText -Force
    return New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $Pair.username, $secure
}
$cred = ConvertTo-Credential -Pair $envelope.credential
$guestCred = ConvertTo-Credential -Pair $envelope.guestCredential
# In a warm session (the session host's $galaxyHaWarm) the host's remote session is opened
# once and kept, and the exit code is left for the session host instead of ending it.
$warm = Get-Variable -Name 'galaxyHaWarm' -ValueOnly -ErrorAction SilentlyContinue
$keep = $null -ne $warm
$code = 0
try {
    if ($envelope.remote) {
        $params = @{ ScriptBlock = $body; ArgumentList = @($envelope.input, $cred, $guestCred, $keep) }
        if ($keep) {
            if ($null -eq $warm.Session -or [string]$warm.Session.State -ne 'Opened') {
                if ($null -ne $warm.Session) { Remove-PSSession -Session $warm.Session -ErrorAction SilentlyContinue }
                $warm.Session = $null
                $open = @{ ComputerName = $envelope.computer }
                if ($null -ne $cred) { $open.Credential = $cred }
                $warm.Session = New-PSSession @open
            }
            $params.Session = $warm.Session
        } else {
            $params.ComputerName = $envelope.computer
            if ($null -ne $cred) { $params.Credential = $cred }
        }
        $out = Invoke-Command @params
    } else {
        $out = & $body $envelope.input $cred $guestCred $keep
    }
} catch {
    $transport = $_.Exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]
    if ($transport -or [string]$_.CategoryInfo.Reason -eq 'PSRemotingTransportException') {
        [Console]::Error.WriteLine('unreachable|' + $_.Exception.Message)
        $code = 3
    } else {
        [Console]::Error.WriteLine($_.Exception.Message)
        $code = 2
    }
}
if ($code -eq 0) {
    $last = @($out) | Select-Object -Last 1
    if ($null -ne $last) { [Console]::Out.Write([string]$last) }
}
if ($keep) {
    $warm.ExitCode = $code
    return
}
exit $code
