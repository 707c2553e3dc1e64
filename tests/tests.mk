# Tests: unit (cmocka, native), VM end-to-end (tests/vm), benchmarks (tests/bench).
include tests/fuzz/fuzz.mk
include tests/faults/faults.mk
include tests/man/man.mk
include tests/report/report.mk

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

$(OUT)/tests:
	mkdir -p $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(OUT)/tests
	$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS) -lcmocka

# The workload generator runs inside the guests; it counts its own operations.
# Static: starting it must not make the dynamic loader fail opens of its own.
$(OUT)/lpload: tests/workload/lpload.c | $(OUT)
	$(CC) -O2 -g -Wall -Wextra -static $< -o $@

# The same tests again under AddressSanitizer and UndefinedBehaviorSanitizer:
# parsers of kernel files and (soon) of untrusted .ko files must not overread.
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_OBJS   := $(patsubst $(OUT)/%.o,$(OUT)/san/%.o,$(LIB_OBJS))
SAN_BINS   := $(patsubst tests/unit/%.c,$(OUT)/san/%,$(UNIT_SRCS))

$(OUT)/san:
	mkdir -p $@

$(OUT)/san/%.o: user/%.c $(USER_HDRS) bpf/lpsentinel.h $(SKELS) | $(OUT)/san
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUT)/san/test_%: tests/unit/test_%.c $(SAN_OBJS) | $(OUT)/san
	$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_OBJS) -o $@ $(LDLIBS) -lcmocka

# inspect's tests read real fixture livepatches, built for the oldest lab kernel.
FIXTURE_KREL = $(shell ./tests/vm/kernels.sh | head -n1)

# The fleet alerting rules (deploy/prometheus): promtool checks them and runs
# their unit tests (tests/alerts), where each alert fires and stays quiet.
alert-test:
	promtool check rules deploy/prometheus/lpsentinel-alerts.yml
	promtool test rules tests/alerts/lpsentinel-alerts.test.yml

# The Ansible role and playbooks (deploy/ansible): syntax and ansible-lint.
ansible-test:
	cd deploy/ansible && ansible-playbook -i localhost, --syntax-check install.yml rollout.yml
	cd deploy/ansible && ansible-lint -q install.yml rollout.yml

unit-test: $(UNIT_BINS) $(SAN_BINS) $(FUZZ_BINS) lpsentinel alert-test ansible-test
	./tests/vm/build-fixtures.sh $(FIXTURE_KREL)
	@set -e; for t in $(UNIT_BINS) $(SAN_BINS); do echo "== $$t"; \
		LPS_FIXTURE_DIR=$(OUT)/fixtures/$(FIXTURE_KREL) $$t; done
	./tests/fuzz/run-fuzz.sh runs $(FUZZ_RUNS) $(FUZZ_NAMES)
	./tests/install/check-install.sh
	python3 tests/layout/check-layout.py
	./tests/docs/check-usage.py ./lpsentinel

vm-test: lpsentinel $(OUT)/lpload
	./tests/vm/run-cases.sh

# The fleet rollout end to end (tests/fleet/rollout-test.sh): three lab
# guests, Ansible, Prometheus, on the newest Debian 12 lab kernel (6.12), with
# the role's second run (nothing to change: -i). One kernel, not two: the
# fleet adds nothing kernel-specific to what vm-test covers on every lab
# kernel, and a second run cost 9 minutes of make test (docs/fleet.md).
# FLEET_KRELS="..." runs it on others too (`./tests/vm/kernels.sh` lists them).
FLEET_KRELS ?= $(lastword $(shell ./tests/vm/kernels.sh | grep -E '^6\.12\.'))
fleet-test: lpsentinel $(OUT)/lpload
	@set -e; for k in $(FLEET_KRELS); do ./tests/fleet/rollout-test.sh -i -k $$k; done

# The README's two commands: each installs what it needs first.
test:
	./scripts/install-deps.sh --if-missing
	$(MAKE) all
	./tests/run-stages.sh $(TEST_STAGES)

# make test's stages in order (tests/run-stages.sh times each).
TEST_STAGES := unit-test deb-test vm-test fleet-test

demo:
	./scripts/install-deps.sh --if-missing
	$(MAKE) all $(OUT)/lpload
	./tests/vm/demo.sh

# The fleet rollout on the newest 6.12 lab kernel, shown step by step.
fleet-demo:
	./scripts/install-deps.sh --if-missing
	$(MAKE) all $(OUT)/lpload
	./tests/fleet/rollout-test.sh -i

bench:
	./scripts/install-deps.sh --if-missing
	$(MAKE) all $(OUT)/lpload $(OUT)/lps-floor $(OUT)/lps-probe
	./tests/bench/run-bench.sh

# Benchmark floor: an empty fentry+fexit pair, built like the product's probes.
$(OUT)/bench:
	mkdir -p $@

$(OUT)/bench/floor.bpf.o: tests/bench/floor.bpf.c $(OUT)/vmlinux.h | $(OUT)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/floor.skel.h: $(OUT)/bench/floor.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Both read the kernel's attach type for tracing sessions (ksession.c).
BENCH_LIB := $(OUT)/probe/ksession.o $(OUT)/probe/func_btf.o

$(OUT)/lps-floor: tests/bench/floor.c $(OUT)/bench/floor.skel.h $(BENCH_LIB)
	$(CC) $(CFLAGS) -I$(OUT)/bench $< $(BENCH_LIB) -o $@ -lbpf -lelf -lz

# lpsentinel's own fentry+fexit probes without its userspace (probe.c says why).
$(OUT)/lps-probe: tests/bench/probe.c $(OUT)/trace.skel.h $(OUT)/fsession.skel.h bpf/lpsentinel.h \
		  $(BENCH_LIB)
	$(CC) $(CFLAGS) $< $(BENCH_LIB) -o $@ -lbpf -lelf -lz
