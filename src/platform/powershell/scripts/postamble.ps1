
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
try {
    if ($envelope.remote) {
        $params = @{ ComputerName = $envelope.computer; ScriptBlock = $body; ArgumentList = @($envelope.input, $cred, $guestCred) }
        if ($null -ne $cred) { $params.Credential = $cred }
        $out = Invoke-Command @params
    } else {
        $out = & $body $envelope.input $cred $guestCred
    }
} catch {
    $transport = $_.Exception -is [System.Management.Automation.Remoting.PSRemotingTransportException]
    if ($transport -or [string]$_.CategoryInfo.Reason -eq 'PSRemotingTransportException') {
        [Console]::Error.WriteLine('unreachable|' + $_.Exception.Message)
        exit 3
    }
    [Console]::Error.WriteLine($_.Exception.Message)
    exit 2
}
$last = @($out) | Select-Object -Last 1
if ($null -ne $last) { [Console]::Out.Write([string]$last) }
exit 0
