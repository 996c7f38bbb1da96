# The broker test tools (tests/vm/test-broker.sh, tests/broker-against-mosquitto.sh):
#   make -f tests/tools/tools.mk BUILD=build
# builds $(BUILD)/bin/kmqtt-mqtt-check (libmosquitto), $(BUILD)/bin/kmqtt-mqtt-raw (plain C) and
# $(BUILD)/bin/kmqtt-tls-raw (OpenSSL and the project's MQTT codec; tests/tls).
# Paths are relative to the top of the tree; the top-level Makefile may include this file.
BUILD ?= build
TOOLS_BIN := $(BUILD)/bin
TOOLS_CC ?= gcc
# TOOLS_SAN="-fsanitize=address,undefined" builds them instrumented (and TOOLS_CC=clang).
TOOLS_SAN ?=
TOOLS_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fstack-protector-strong \
	$(TOOLS_SAN)
TOOLS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: tools
tools: $(TOOLS_BIN)/kmqtt-mqtt-check $(TOOLS_BIN)/kmqtt-mqtt-raw $(TOOLS_BIN)/kmqtt-tls-raw

$(TOOLS_BIN)/kmqtt-mqtt-check: $(TOOLS_DIR)/mqtt-check.c
	@mkdir -p $(@D)
	$(TOOLS_CC) $(TOOLS_CFLAGS) -o $@ $< -lmosquitto

$(TOOLS_BIN)/kmqtt-mqtt-raw: $(TOOLS_DIR)/mqtt-raw.c
	@mkdir -p $(@D)
	$(TOOLS_CC) $(TOOLS_CFLAGS) -o $@ $<

TOOLS_CORE := $(TOOLS_DIR)/../../kmod/core
$(TOOLS_BIN)/kmqtt-tls-raw: $(TOOLS_DIR)/tls-raw.c $(wildcard $(TOOLS_CORE)/*.c $(TOOLS_CORE)/*.h)
	@mkdir -p $(@D)
	$(TOOLS_CC) $(TOOLS_CFLAGS) -I$(TOOLS_CORE) -o $@ $< $(wildcard $(TOOLS_CORE)/*.c) -lssl -lcrypto
