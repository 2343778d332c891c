
$system = 'Carbonite'
Import-DoubleTake -InstallPath $in.installPath
$server = Connect-DoubleTake -Address $in.address -Credential $cred
try {
    $mail = %%GET_DT_EMAIL_OPTIONS%% -ServiceHost $server
    $mail.%%MAIL_ENABLED%% = $true
    $mail.%%MAIL_SERVER%% = [string]$in.settings.server
    $mail.%%MAIL_PORT%% = [int]$in.settings.port
    if ($in.settings.security -eq 'tls') {
        $mail.%%MAIL_SECURITY%% = '%%MAIL_SECURITY_SSL%%'
    } elseif ($in.settings.security -eq 'starttls') {
        $mail.%%MAIL_SECURITY%% = '%%MAIL_SECURITY_TLS%%'
    } else {
        $mail.%%MAIL_SECURITY%% = '%%MAIL_SECURITY_PLAIN%%'
    }
    if ($null -ne $in.settings.username) {
        $mail.%%MAIL_LOGIN%% = $true
        $login = New-Object -TypeName '%%MAIL_CREDENTIALS_TYPE%%'
        $login.%%CRED_USERNAME%% = [string]$in.settings.username
        if ($null -ne $in.password) { $login.%%CRED_PASSWORD%% = [string]$in.password }
        $mail.%%MAIL_CREDENTIALS%% = $login
    } else {
        $mail.%%MAIL_LOGIN%% = $false
    }
    $mail.%%MAIL_FROM%% = [string]$in.settings.from
    $mail.%%MAIL_TO%% = (@($in.settings.to) -join ',')
    $mail.%%MAIL_SUBJECT_PREFIX%% = [string]$in.settings.subjectPrefix
    $mail.%%MAIL_ADD_DESCRIPTION%% = [bool]$in.settings.addEventDescription
    $mail.%%MAIL_INCLUDE%% = (@($in.settings.include) -join ',')
    $mail.%%MAIL_EXCLUDE%% = [string]$in.settings.excludeEventIds
    %%SET_DT_EMAIL_OPTIONS%% -ServiceHost $server -Options $mail
    %%TEST_DT_EMAIL%% -ServiceHost $server -Options $mail -To (@($in.settings.to) -join ',') -Body ('galaxy-ha: test of the Double-Take e-mail notification on ' + $env:COMPUTERNAME)
} finally {
    Disconnect-DoubleTake -Server $server
}
