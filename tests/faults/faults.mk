# Fault injection for the VM cases faults_gate and faults_watch: an LD_PRELOAD
# shim that fails real system calls (bpf, finit_module, delete_module, sysfs
# writes) or SIGKILLs the process right after one (tests/faults/lps_faults.c).
$(OUT)/lps_faults.so: tests/faults/lps_faults.c | $(OUT)
	$(CC) -O2 -g -Wall -Wextra -shared -fPIC $< -o $@ -ldl

vm-test: $(OUT)/lps_faults.so
