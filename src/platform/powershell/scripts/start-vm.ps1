
$system = 'Hyper-V'
$vm = Find-Vm -Name $in.vm
if ([string]$vm.State -ne 'Running') {
    Start-VM -VM $vm
}
