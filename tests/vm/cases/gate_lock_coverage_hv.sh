#!/usr/bin/env bash
# gate_lock_coverage.sh on a CPU with the hypervisor bit (QEMU TCG: no
# paravirt spinlocks): lock_contention must say it covers sleeping locks only.
# vm-cpu: max
# vm-kernels: 6.1.*
WANT_HV=1
. "$(dirname "$0")/gate_lock_coverage.sh"
