
$system = 'Hyper-V'
$vm = Find-Vm -Name $in.vm
if ([string]$vm.State -ne 'Off') {
    throw ('cannot remove virtual machine "' + $vm.Name + '": it is ' + [string]$vm.State + '; stop it first')
}
$disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
Remove-VM -VM $vm -Force
return (ConvertTo-Json -InputObject ([pscustomobject]@{ vm = [string]$in.vm; keptDisks = $disks }) -Compress)
