# kmqtt-bench (the load generator) and kmqtt-relay (the raw relay baseline):
#   make -f tools/bench/bench.mk BUILD=build     (or `make tools` from the top)
# builds $(BUILD)/bin/kmqtt-bench and $(BUILD)/bin/kmqtt-relay with the portable core
# (kmod/core/*.c) compiled in. KBENCH_CC=clang and KBENCH_SAN="-fsanitize=address,undefined"
# build them with another compiler or instrumented (use another BUILD for that).
# Paths are relative to the top of the tree; the top-level Makefile includes this file.
BUILD ?= build
KBENCH_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
KBENCH_CORE := $(KBENCH_DIR)/../../kmod/core
KBENCH_BIN := $(BUILD)/bin
KBENCH_OBJ := $(BUILD)/obj/kbench
KBENCH_CC ?= gcc
KBENCH_SAN ?=
KBENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-fstack-protector-strong -pthread -I$(KBENCH_CORE) -MMD -MP $(KBENCH_SAN)
KBENCH_LIBS := -lssl -lcrypto -lm

KBENCH_CORE_OBJS := $(patsubst $(KBENCH_CORE)/%.c,$(KBENCH_OBJ)/core/%.o,\
	$(wildcard $(KBENCH_CORE)/*.c))
KBENCH_OBJS := $(patsubst $(KBENCH_DIR)/%.c,$(KBENCH_OBJ)/%.o,\
	$(addprefix $(KBENCH_DIR)/,kmqtt-bench.c scenario.c worker.c report.c hist.c))
KRELAY_OBJS := $(KBENCH_OBJ)/kmqtt-relay.o

.PHONY: tools kbench
tools: $(KBENCH_BIN)/kmqtt-bench $(KBENCH_BIN)/kmqtt-relay
kbench: $(KBENCH_BIN)/kmqtt-bench $(KBENCH_BIN)/kmqtt-relay

$(KBENCH_BIN)/kmqtt-bench: $(KBENCH_OBJS) $(KBENCH_CORE_OBJS)
	@mkdir -p $(@D)
	$(KBENCH_CC) $(KBENCH_CFLAGS) -o $@ $^ $(KBENCH_LIBS)

$(KBENCH_BIN)/kmqtt-relay: $(KRELAY_OBJS) $(KBENCH_CORE_OBJS)
	@mkdir -p $(@D)
	$(KBENCH_CC) $(KBENCH_CFLAGS) -o $@ $^

$(KBENCH_OBJ)/core/%.o: $(KBENCH_CORE)/%.c
	@mkdir -p $(@D)
	$(KBENCH_CC) $(KBENCH_CFLAGS) -c -o $@ $<

$(KBENCH_OBJ)/%.o: $(KBENCH_DIR)/%.c
	@mkdir -p $(@D)
	$(KBENCH_CC) $(KBENCH_CFLAGS) -c -o $@ $<

-include $(wildcard $(KBENCH_OBJ)/*.d $(KBENCH_OBJ)/core/*.d)
