#!/usr/bin/env bash
# gate_lock_coverage.sh on a CPU with the hypervisor bit (QEMU TCG: no
# paravirt spinlocks): lock_contention must say it covers sleeping locks only.
# vm-cpu: max
# vm-kernels: 6.1.*
# shellcheck disable=SC2034  # read by gate_lock_coverage.sh
WANT_HV=1
. "$(dirname "$0")/gate_lock_coverage.sh"
