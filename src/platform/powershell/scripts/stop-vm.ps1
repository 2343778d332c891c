
$system = 'Hyper-V'
$vm = Find-Vm -Name $in.vm
if ([string]$vm.State -ne 'Off') {
    if ($in.turnOff) {
        Stop-VM -VM $vm -TurnOff -Force
    } else {
        Stop-VM -VM $vm -Force
    }
}
