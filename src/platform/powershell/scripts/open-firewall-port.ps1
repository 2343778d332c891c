
$display = 'Double-Take ' + $in.protocol + ' ' + $in.port + ' (galaxy-ha)'
$existing = @(Get-NetFirewallRule -DisplayName $display -ErrorAction SilentlyContinue)
if ($existing.Count -gt 0) {
    $existing | Set-NetFirewallRule -Enabled True -Direction Inbound -Action Allow -Protocol $in.protocol -LocalPort $in.port
} else {
    $null = New-NetFirewallRule -DisplayName $display -Group 'galaxy-ha' -Direction Inbound -Action Allow -Protocol $in.protocol -LocalPort $in.port -Profile Any
}
