# kmqtt — top-level Makefile.
#
#   make              build kmqtt.ko for KVER and the userspace programs
#   make run          the broker, up and usable (in a QEMU guest when this kernel can't load modules)
#   make check        every test; output ends with "N passed, N failed[, N skipped]"
#   make deps         install build and test dependencies (Debian 12, root)
#   make unit         host unit tests of the portable core and userspace (ASan/UBSan)
#   make fuzz         libFuzzer harnesses (FUZZ_SECONDS=60 each by default)
#   make kunit        KUnit suites on the self-built debug kernel
#   make style        checkpatch --strict on kmod/
#   make sparse       sparse on kmod/ (C=2)
#   make dkms-install install the module source into DKMS and build it for KVER
#   make install      kmqttd, kmqttctl, the systemd unit and a default config (DESTDIR=, PREFIX=)
#   make bench-core   core microbenchmarks
#   make bench        kmqtt vs mosquitto vs a raw relay in one QEMU guest: results JSON, plots,
#                     docs/benchmarks.md (~30 min; QUICK=1: a short smoke run under build/bench)

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build

# The kernel to build for: the running one if it can load modules and has its build tree,
# otherwise Debian's newest installed 6.1 kernel.
RUNNING := $(shell uname -r)
HOST_CAN_LOAD := $(shell test -e /proc/modules -a -d /lib/modules/$(RUNNING)/build && \
	test "$$(cat /proc/sys/kernel/modules_disabled 2>/dev/null || echo 1)" = 0 && echo y)
ifeq ($(HOST_CAN_LOAD),y)
KVER ?= $(RUNNING)
else
KVER ?= $(shell ls /lib/modules 2>/dev/null | grep '^6\.1\.' | sort -V | tail -n 1)
endif
# KVER=debug: the self-built debug test kernel (scripts/debug-kernel.sh).
ifeq ($(KVER),debug)
KDIR ?= $(shell bash scripts/debug-kernel.sh --print 2>/dev/null | sed -n 's/^tree: //p')
else
KDIR ?= /lib/modules/$(KVER)/build
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

.PHONY: print-kver print-host-can-load
print-kver:
	@echo $(KVER)
print-host-can-load:
	@echo $(HOST_CAN_LOAD)

.PHONY: all module userspace unit fuzz fuzz-short kunit style sparse check run deps \
	dkms-install dkms-remove clean bench-core bench install tools

all: module userspace tools

# The broker test tools (kmqtt-mqtt-check, kmqtt-mqtt-raw).
include tests/tools/tools.mk
include tools/bench/bench.mk

deps:
	@bash scripts/deps.sh

module:
	@test -n "$(KVER)" -a -d "$(KDIR)" || { echo "make: no kernel build tree for KVER='$(KVER)' (run 'make deps')" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) modules W=1
	@mkdir -p $(BUILD)/$(KVER) && cp kmod/kmqtt.ko $(BUILD)/$(KVER)/kmqtt.ko

userspace:
	$(MAKE) -C userspace BUILD=$(BUILD)

unit:
	$(MAKE) -f tests/unit/unit.mk BUILD=$(BUILD) run

fuzz:
	$(MAKE) -f tests/fuzz/fuzz.mk BUILD=$(BUILD) run FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

fuzz-short:
	$(MAKE) -f tests/fuzz/fuzz.mk BUILD=$(BUILD) run FUZZ_SECONDS=$(or $(FUZZ_SECONDS),10)

bench-core:
	$(MAKE) -f tests/unit/unit.mk BUILD=$(BUILD) bench

bench:
	@bash scripts/bench $(if $(filter 1,$(QUICK)),--quick) \
		$(if $(filter command line,$(origin KVER)),-k $(KVER))

kunit:
	@bash tests/kunit.sh

style:
	@bash scripts/style.sh

sparse:
	@test -x /usr/bin/sparse || { echo "make: sparse missing (run 'make deps')" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) C=2 CF="-D__CHECK_ENDIAN__" modules

check:
	@bash tests/run

run:
	@bash scripts/run

PREFIX ?= /usr
install: userspace
	install -D -m 0755 $(BUILD)/bin/kmqttd $(DESTDIR)$(PREFIX)/sbin/kmqttd
	install -D -m 0755 $(BUILD)/bin/kmqttctl $(DESTDIR)$(PREFIX)/sbin/kmqttctl
	install -D -m 0644 userspace/kmqttd.service $(DESTDIR)/lib/systemd/system/kmqttd.service
	test -e $(DESTDIR)/etc/kmqtt/kmqttd.conf || \
		install -D -m 0644 userspace/kmqttd.conf $(DESTDIR)/etc/kmqtt/kmqttd.conf
	install -D -m 0644 -t $(DESTDIR)$(PREFIX)/share/doc/kmqtt README.md docs/*.md

dkms-install:
	@bash scripts/dkms.sh install $(KVER)

dkms-remove:
	@bash scripts/dkms.sh remove

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	$(MAKE) -C userspace BUILD=$(BUILD) clean
	rm -rf $(BUILD)
