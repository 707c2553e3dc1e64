# Fuzzing (libFuzzer, with AddressSanitizer and UndefinedBehaviorSanitizer):
# one harness per parser of bytes lpsentinel did not write, tests/fuzz/fuzz_X.c.
# Seeds: tests/fuzz/corpus/X/ (real files); every crash found becomes an input
# under tests/fuzz/regress/X/ that `make fuzz-test` replays for ever after.
#   make fuzz [FUZZ_S=60] [FUZZ=X]  each harness (or X) for FUZZ_S seconds
#   make fuzz-test [FUZZ_RUNS=N]      regressions, seeds, then N executions each
#                                     (fixed seed: the same inputs every run)

FUZZ_CC    ?= clang
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS  := $(patsubst %,$(OUT)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS  := $(patsubst $(OUT)/%.o,$(OUT)/fuzz/obj/%.o,$(LIB_OBJS))
FUZZ_S     ?= 60
FUZZ_RUNS  ?= 20000
FUZZ       ?= $(FUZZ_NAMES)

.PHONY: fuzz fuzz-test fuzz-build

$(OUT)/fuzz/obj/%.o: user/%.c $(USER_HDRS) bpf/lpsentinel.h $(SKELS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) -Wno-unused-command-line-argument $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	./tests/fuzz/run-fuzz.sh time $(FUZZ_S) $(FUZZ)

fuzz-test: $(FUZZ_BINS)
	./tests/fuzz/run-fuzz.sh runs $(FUZZ_RUNS) $(FUZZ_NAMES)
