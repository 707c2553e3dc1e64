# Manual pages and bash completion, printed by the binary from the option
# tables (user/cmd/manpage.c, completion.c), and their tests (docs/manpages.md).
# One page per verb the binary lists (`lpsentinel help --verbs`): a new verb
# gets its page without a change here.
MAN_DIR  := $(OUT)/man
COMP_DIR := $(OUT)/completion
# The pages' date (reproducible builds): the last commit's, unless given.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)

.PHONY: man completion man-test
man: lpsentinel
	rm -rf $(MAN_DIR).tmp && mkdir -p $(MAN_DIR).tmp
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) ./lpsentinel help --man > $(MAN_DIR).tmp/lpsentinel.8
	@set -e; verbs=$$(./lpsentinel help --verbs); for v in $$verbs; do \
		SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) ./lpsentinel help --man $$v \
			> $(MAN_DIR).tmp/lpsentinel-$$v.8; done
	rm -rf $(MAN_DIR) && mv $(MAN_DIR).tmp $(MAN_DIR)

completion: lpsentinel
	mkdir -p $(COMP_DIR)
	./lpsentinel help --completion > $(COMP_DIR)/lpsentinel.tmp
	mv $(COMP_DIR)/lpsentinel.tmp $(COMP_DIR)/lpsentinel

# Every page clean under man --warnings and groff -ww, its options those of
# --help; the completion script completing verbs, options, files and patches.
man-test: man completion
	./tests/man/check-man.py ./lpsentinel $(MAN_DIR)
	./tests/man/check-completion.sh ./lpsentinel $(COMP_DIR)/lpsentinel

# make install puts them in place too (the Makefile's install runs this first).
install: install-man
.PHONY: install-man
install-man: man completion
	install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/man/man8 $(MAN_DIR)/*.8
	install -D -m 0644 $(COMP_DIR)/lpsentinel \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/lpsentinel

# The unit tests include them.
unit-test: man-test
