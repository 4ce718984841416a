# SPDX-License-Identifier: GPL-2.0
#
# rpmem: persistent memory block + DAX driver in Rust.
#
#   make            build rpmem.ko (sets up the machine and the guest kernel
#                   on first use; KDIR=/path builds against your own tree)
#   make run        boot the QEMU NVDIMM guest (Debian's own kernel; FLAVOR=test:
#                   the debug one) and show rpmem at work
#   make test       every test: host cargo test, the harness self-test,
#                   KUnit, selftests, dmesg
#   make test-leaks leaks.sh in a kmemleak=on guest (slow; CI runs it too)
#   make test-dkms  DKMS in a copy of the stock toolchain root, then the
#                   module it built in the stock guest
#   make test-harness
#                   the test harness's self-test alone (host, seconds)
#   make bench      rpmem against nd_pmem side by side (QUICK=1: smoke run)
#   make vars       KDIR=, BZIMAGE=, MODULE= of this build
#   make setup      install the toolchain, QEMU and guest tools (root)
#   make kernel     build the guest kernel (FLAVOR=test|bench|stock)
#   make CLIPPY=1   build with clippy
#   make sign       sign rpmem.ko (SIGN_KEY=, SIGN_CERT=; else a local key)
#   make dkms-install
#                   on a machine with dkms, as root: add this tree to DKMS
#                   (then dkms install rpmem/VERSION), with modprobe.d/rpmem.conf
# The kernel Kbuild reads ./Kbuild for the module itself.

T := tools/testing/rpmem

all: modules

modules clean vars sign:
	@$(T)/build.sh $@ $(if $(CLIPPY),CLIPPY=$(CLIPPY))

dkms-install:
	@rust/distro.sh dkms-install

setup:
	@RPMEM_SETUP_FORCE=$(FORCE) $(T)/setup.sh

kernel:
	@$(T)/setup.sh && $(T)/kernel.sh $(or $(FLAVOR),test) >/dev/null

run:
	@$(T)/run.sh

test:
	@$(T)/test.sh $(TESTS)

test-leaks:
	@$(T)/test.sh leaks

test-dkms:
	@$(T)/dkms.sh

test-harness:
	@$(T)/harness-selftest.sh

bench:
	@$(T)/bench.sh $(if $(QUICK),--quick)

.PHONY: all modules clean vars sign dkms-install test-dkms setup kernel run test test-leaks test-harness bench
