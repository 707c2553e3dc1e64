#!/usr/bin/env bash
# A fixed CPU-bound userspace job (hashing 256 MiB of zeros); prints its wall
# seconds. Timed on the host and in a guest, it gives the emulation slowdown
# that turns guest CPU figures into estimates for native hardware.
set -euo pipefail
t0=$(date +%s.%N)
head -c 256M /dev/zero | sha256sum >/dev/null
t1=$(date +%s.%N)
python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t0" "$t1"
