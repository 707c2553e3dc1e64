# lpsentinel: BPF objects (clang, CO-RE), skeletons (bpftool), userspace (gcc).
# `make` builds ./lpsentinel; `make test` runs unit and VM tests; `make demo`
# boots the VM lab and shows the main job; `make bench` writes benchmark figures.
# `make docs` writes docs/usage.md (every verb's options) from the binary.

OUT        := build
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror=implicit-function-declaration \
	      -Wno-missing-field-initializers -I$(OUT) -Ibpf $(addprefix -I,$(USER_DIRS))
LDLIBS     := -lbpf -lelf -lz -ljson-c -lyaml -lmicrohttpd -lm
# The version, from its one place: debian/changelog's top entry (the package
# carries it, `lpsentinel --version` prints it). Without dpkg-dev, the same
# field read from the entry's first line.
VERSION    := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null || \
		head -n1 debian/changelog | cut -d' ' -f2 | tr -d '()')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -I$(OUT) -Ibpf

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
SKELS      := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
# user/: one folder per part of the product (docs/design.md has the map).
USER_DIRS  := $(sort $(dir $(wildcard user/*/*.c)))
USER_DIRS  := $(USER_DIRS:/=)
USER_SRCS  := $(wildcard user/*/*.c)
USER_HDRS  := $(wildcard user/*/*.h)
USER_OBJS  := $(patsubst user/%.c,$(OUT)/%.o,$(USER_SRCS))
LIB_OBJS   := $(filter-out $(OUT)/cmd/main.o,$(USER_OBJS))

.SECONDARY:
.PHONY: all deps test unit-test alert-test ansible-test vm-test fleet-test demo fleet-demo bench clean install calibration docs
all: lpsentinel

deps:
	./scripts/install-deps.sh

$(OUT):
	mkdir -p $@

$(OUT)/vmlinux.h: | $(OUT)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/lpsentinel.h bpf/hists.bpf.h bpf/session.bpf.h $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUT)/%.o: user/%.c $(USER_HDRS) bpf/lpsentinel.h $(SKELS) | $(OUT)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Only main.c prints the version: a new changelog entry rebuilds it alone.
$(OUT)/cmd/main.o: debian/changelog
$(OUT)/cmd/main.o: CPPFLAGS += -DLPS_VERSION='"$(VERSION)"'

lpsentinel: $(USER_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

include tests/tests.mk
include tests/deb/deb.mk

# docs/usage.md: every verb's synopsis and options, printed by the binary from
# the option tables in user/cmd/*.c (`make unit-test` checks it is current).
docs: lpsentinel
	@mkdir -p docs
	./lpsentinel help --markdown > docs/usage.md.tmp && mv docs/usage.md.tmp docs/usage.md

# make install: the binary, the service, default rules (kept if present), dashboards,
# the Prometheus alerting rules, the calibration patch's source; man pages and
# completion come from tests/man/man.mk. PREFIX=/usr is the Debian package's
# (debian/rules): its unit goes with the distribution's, where
# dh_installsystemd finds it; a local install's goes with the administrator's.
# The unit names /usr/local paths; they become PREFIX's.
PREFIX  ?= /usr/local
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,/etc/systemd/system)
SHARE    = $(DESTDIR)$(PREFIX)/share
install: lpsentinel
	install -D -m 0755 lpsentinel $(DESTDIR)$(PREFIX)/sbin/lpsentinel
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/lpsentinel.service >$(DESTDIR)$(UNITDIR)/lpsentinel.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/lpsentinel.service
	test -e $(DESTDIR)/etc/lpsentinel/rules.yaml || \
		install -D -m 0644 rules/default.yaml $(DESTDIR)/etc/lpsentinel/rules.yaml
	install -D -m 0644 -t $(SHARE)/lpsentinel/dashboards dashboards/*.json
	install -D -m 0644 -t $(SHARE)/lpsentinel/prometheus deploy/prometheus/lpsentinel-alerts.yml
	install -D -m 0644 -t $(SHARE)/lpsentinel/calibration calibration/Kbuild \
		calibration/Makefile calibration/lps_noop.c calibration/README.md
	install -D -m 0644 README.md $(SHARE)/doc/lpsentinel/README.md
	install -D -m 0644 -t $(SHARE)/doc/lpsentinel/docs docs/*.md

# The calibration livepatch for `lpsentinel overhead --calibrate`, built
# against the running kernel's headers (KREL=... for another installed one).
KREL ?= $(shell uname -r)
calibration:
	rm -rf $(OUT)/calibration/$(KREL) && mkdir -p $(OUT)/calibration/$(KREL)
	cp calibration/Kbuild calibration/Makefile calibration/lps_noop.c $(OUT)/calibration/$(KREL)/
	$(MAKE) -C $(OUT)/calibration/$(KREL) KREL=$(KREL)
	@echo "calibration patch: $(OUT)/calibration/$(KREL)/lps_noop.ko"

clean:
	rm -rf $(OUT) lpsentinel
