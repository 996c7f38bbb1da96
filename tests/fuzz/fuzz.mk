# libFuzzer harnesses: every tests/fuzz/fuzz_*.c is linked with the portable core and run
# for FUZZ_SECONDS on a scratch copy of its committed corpus tests/fuzz/corpus/<name>/.
BUILD ?= build
FB := $(BUILD)/fuzz
FUZZ_SECONDS ?= 10
CC := clang
CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Ikmod/core \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
CORE_SRCS := $(wildcard kmod/core/*.c)
FUZZERS := $(patsubst tests/fuzz/%.c,$(FB)/%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: build run
build: $(FUZZERS)

$(FB)/%: tests/fuzz/%.c $(CORE_SRCS) $(wildcard kmod/core/*.h tests/common/*.h kmod/tests/*.h)
	@mkdir -p $(FB)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_SRCS)

# One TAP line per harness with its execution count.
run: build
	@rc=0; for f in $(FUZZERS); do \
		n=$$(basename $$f); work=$(FB)/work-$$n; rm -rf $$work; mkdir -p $$work; \
		[ -d tests/fuzz/corpus/$$n ] && cp tests/fuzz/corpus/$$n/* $$work/ 2>/dev/null; \
		if $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FB)/$$n- $$work >$(FB)/$$n.log 2>&1; then \
			execs=$$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(FB)/$$n.log | grep -o '[0-9]*$$'); \
			[ -n "$$execs" ] || execs=$$(grep -Eo '^#[0-9]+' $(FB)/$$n.log | tail -n 1 | tr -d '#'); \
			echo "ok - fuzz $$n: $$execs executions in $(FUZZ_SECONDS)s, no crash"; \
		else \
			echo "not ok - fuzz $$n: crash, see $(FB)/$$n.log"; tail -n 30 $(FB)/$$n.log | sed 's/^/#   /'; rc=1; \
		fi; \
	done; exit $$rc
