# galaxy-ha session host. One long-lived Windows PowerShell per host: it runs the generated
# scripts it is sent, one at a time, so that starting PowerShell, importing the DoubleTake
# module and connecting to the host are paid once, not for every script.
#
# Protocol, one line each way, nothing in it that a script's output can imitate:
#   the first line on standard input is this session's nonce;
#   every later line is a request, base64 of UTF-8 JSON {kind, script, envelope}: `script` is
#   the script's text the first time a kind is sent (kept in a file for the next), `envelope`
#   the text the script reads from its standard input (credentials travel only here);
#   every frame written back starts with the nonce: `NONCE ready`, then per request
#   `NONCE done CODE STDOUT STDERR WORKINGSET`, STDOUT and STDERR base64 of UTF-8 ('-' empty).
# Anything else on standard output is not a frame and is ignored by the controller. The end of
# standard input ends the session: its remote session is closed and its files removed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$galaxyHaUtf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
[Console]::OutputEncoding = $galaxyHaUtf8
$galaxyHaIn = [Console]::In
$galaxyHaOut = [Console]::Out
$galaxyHaErr = [Console]::Error
$galaxyHaNonce = $galaxyHaIn.ReadLine()
# Shared with the scripts: the postamble keeps the host's remote session here and leaves its
# exit code here instead of ending this process.
$galaxyHaWarm = @{ Session = $null; ExitCode = 0 }
$galaxyHaDir = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('galaxy-ha-session-' + $PID)
$null = New-Item -ItemType Directory -Path $galaxyHaDir -Force
$galaxyHaPaths = @{}

function Write-Frame {
    param($Text)
    $galaxyHaOut.WriteLine($galaxyHaNonce + ' ' + $Text)
    $galaxyHaOut.Flush()
}

function ConvertTo-FrameField {
    param([string]$Text)
    if ([string]::IsNullOrEmpty($Text)) { return '-' }
    return [Convert]::ToBase64String($galaxyHaUtf8.GetBytes($Text))
}

Write-Frame -Text 'ready'
try {
    while ($true) {
        $galaxyHaLine = $galaxyHaIn.ReadLine()
        if ($null -eq $galaxyHaLine) { break }
        $galaxyHaRequest = $galaxyHaUtf8.GetString([Convert]::FromBase64String($galaxyHaLine)) | ConvertFrom-Json
        $galaxyHaKind = [string]$galaxyHaRequest.kind
        if ($null -ne $galaxyHaRequest.script) {
            $galaxyHaPath = Join-Path -Path $galaxyHaDir -ChildPath ($galaxyHaKind + '.ps1')
            [System.IO.File]::WriteAllText($galaxyHaPath, [string]$galaxyHaRequest.script, $galaxyHaUtf8)
            $galaxyHaPaths[$galaxyHaKind] = $galaxyHaPath
        }
        $galaxyHaStdout = New-Object -TypeName System.IO.StringWriter
        $galaxyHaStderr = New-Object -TypeName System.IO.StringWriter
        $galaxyHaWarm.ExitCode = 0
        $galaxyHaCode = 0
        try {
            if (-not $galaxyHaPaths.ContainsKey($galaxyHaKind)) {
                throw ('the ' + $galaxyHaKind + ' script was never sent to this session')
            }
            [Console]::SetIn((New-Object -TypeName System.IO.StringReader -ArgumentList ([string]$galaxyHaRequest.envelope)))
            [Console]::SetOut($galaxyHaStdout)
            [Console]::SetError($galaxyHaStderr)
            $null = & $galaxyHaPaths[$galaxyHaKind]
            $galaxyHaCode = $galaxyHaWarm.ExitCode
        } catch {
            $galaxyHaStderr.WriteLine($_.Exception.Message)
            $galaxyHaCode = 1
        } finally {
            [Console]::SetIn($galaxyHaIn)
            [Console]::SetOut($galaxyHaOut)
            [Console]::SetError($galaxyHaErr)
        }
        $galaxyHaMemory = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64
        Write-Frame -Text ('done ' + [string]$galaxyHaCode + ' ' + (ConvertTo-FrameField -Text $galaxyHaStdout.ToString()) + ' ' + (ConvertTo-FrameField -Text $galaxyHaStderr.ToString()) + ' ' + [string]$galaxyHaMemory)
    }
} finally {
    if ($null -ne $galaxyHaWarm.Session) {
        Remove-PSSession -Session $galaxyHaWarm.Session -ErrorAction SilentlyContinue
    }
    Remove-Item -LiteralPath $galaxyHaDir -Recurse -Force -ErrorAction SilentlyContinue
}
