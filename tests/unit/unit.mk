# Host unit tests: every tests/unit/test_*.c is one cmocka program linked with the portable
# core (kmod/core/*.c) and the userspace library, built with ASan and UBSan.
BUILD ?= build
UB := $(BUILD)/unit
CC := gcc
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Ikmod/core -Ikmod/uapi -Iuserspace/lib $(SAN)
CORE_SRCS := $(wildcard kmod/core/*.c)
LIB_SRCS := $(wildcard userspace/lib/*.c)
TESTS := $(patsubst tests/unit/%.c,$(UB)/%,$(wildcard tests/unit/test_*.c))
BENCHES := $(patsubst tests/unit/%.c,$(BUILD)/bench/%,$(wildcard tests/unit/bench_*.c))
PKGS := cmocka libnl-3.0 libnl-genl-3.0 json-c libcrypto
CFLAGS += $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS))

.PHONY: build run bench
build: $(TESTS)

$(UB)/%: tests/unit/%.c $(CORE_SRCS) $(LIB_SRCS) $(wildcard kmod/core/*.h userspace/lib/*.h tests/unit/*.h tests/common/*.h kmod/tests/*.h)
	@mkdir -p $(UB)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_SRCS) $(LIB_SRCS) $(LIBS) -lm

# The store's test links kmqttd's store (userspace/kmqttd/store.c) and SQLite as well.
STORE_SRCS := userspace/kmqttd/store.c
$(UB)/test_store: tests/unit/test_store.c $(STORE_SRCS) userspace/kmqttd/store.h $(CORE_SRCS) $(LIB_SRCS) $(wildcard kmod/core/*.h userspace/lib/*.h)
	@mkdir -p $(UB)
	$(CC) $(CFLAGS) -D_GNU_SOURCE -Iuserspace/kmqttd $(shell pkg-config --cflags sqlite3) -o $@ $< $(STORE_SRCS) \
		$(CORE_SRCS) $(LIB_SRCS) $(LIBS) $(shell pkg-config --libs sqlite3) -lpthread -lm

# The sessions' test links the session table and the store.
SESSION_SRCS := userspace/kmqttd/sesstab.c userspace/kmqttd/store.c
$(UB)/test_session: tests/unit/test_session.c $(SESSION_SRCS) userspace/kmqttd/sesstab.h userspace/kmqttd/store.h $(CORE_SRCS) $(LIB_SRCS) $(wildcard kmod/core/*.h userspace/lib/*.h)
	@mkdir -p $(UB)
	$(CC) $(CFLAGS) -D_GNU_SOURCE -Iuserspace/kmqttd $(shell pkg-config --cflags sqlite3) -o $@ $< $(SESSION_SRCS) \
		$(CORE_SRCS) $(LIB_SRCS) $(LIBS) $(shell pkg-config --libs sqlite3) -lpthread -lm

# TAP output, one line per test case; tests/run counts them.
run: build
	@rc=0; for t in $(TESTS); do \
		echo "# $$(basename $$t)"; \
		CMOCKA_MESSAGE_OUTPUT=TAP $$t || rc=1; \
	done; exit $$rc

$(BUILD)/bench/%: tests/unit/%.c $(CORE_SRCS) $(wildcard kmod/core/*.h)
	@mkdir -p $(BUILD)/bench
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Ikmod/core -o $@ $< $(CORE_SRCS) -lm

bench: $(BENCHES)
	@for b in $(BENCHES); do $$b || exit 1; done
