# make run   installs what is missing, builds, starts the proxy on :9002
# make test  installs what is missing, builds, runs every test (ctest)
# The build is Release, as the image ships it; the sanitizer builds below
# are RelWithDebInfo, whose -O2 -g the top-level CMakeLists.txt lowers to
# -Og/-O1 -g1 (docs/performance.md, section 7).
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= 2
ARGS ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PACKAGES := $(shell sed -e 's/\#.*//' deploy/build-packages.txt deploy/test-packages.txt)

.PHONY: all deps build run test test-asan test-tsan soak bench clean

all: build

# $(call install_missing,PACKAGES): apt-get installs those not installed yet.
define install_missing
	@missing=""; \
	for pkg in $(1); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(PACKAGES))

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/netpol-proxy $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, and
# under ThreadSanitizer, each in its own build directory.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETPOL_SANITIZE=address \
	  -DNETPOL_BENCH_TOOLS=OFF
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure --timeout 600 $(CTEST_ARGS)

test-tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETPOL_SANITIZE=thread \
	  -DNETPOL_BENCH_TOOLS=OFF
	cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure --timeout 600 $(CTEST_ARGS)

# One proxy process, SOAK_ROUNDS rounds against a simulated fleet with
# faults: every round's results checked, RSS and open fds must stay flat.
SOAK_ROUNDS ?= 100
soak: build
	$(BUILD_DIR)/tests/lab/netpol-lab --rounds $(SOAK_ROUNDS) --out $(BUILD_DIR)/soak \
	  --proxy $(BUILD_DIR)/netpol-proxy tests/lab/scenarios/soak.json

# The crash test with more kill points than ctest's crash_restart (30):
# the proxy is killed (kill -9, and SIGTERM) at CRASH_POINTS points of a
# round, restarted on the same state dir, and every point's round checked.
# CRASH_SEED picks other instants; CRASH_ARGS passes more flags (--only 7).
CRASH_POINTS ?= 200
CRASH_SIGTERMS ?= 5
CRASH_EARLY_STOPS ?= 5
CRASH_SEED ?= 1
CRASH_ARGS ?=
.PHONY: crash
crash: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j$(JOBS) --target netpol-crash-test
	$(BUILD_DIR)/tests/lab/netpol-crash-test --points $(CRASH_POINTS) \
	  --sigterms $(CRASH_SIGTERMS) --early-stops $(CRASH_EARLY_STOPS) --seed $(CRASH_SEED) \
	  --out $(BUILD_DIR)/crash-report --proxy $(BUILD_DIR)/netpol-proxy $(CRASH_ARGS)

# The performance cases (docs/performance.md); BENCH=quick skips the scale run,
# REPEAT=n runs each case n times and reports medians.
REPEAT ?= 1
bench: build
	REPEAT=$(REPEAT) tests/bench/bench.sh $(BUILD_DIR) $(BENCH)

# What the round store costs a round: 2,000 x 20 @ 20 ms, 5,000 x 100 and
# 75,000 x 20 at once, 75,000 x 20 @ 5 ms, each with the store off and on,
# interleaved; PAIRS pairs a case, medians (BENCH=quick: the first two).
PAIRS ?= 3
.PHONY: bench-store
bench-store: build
	PAIRS=$(PAIRS) tests/bench/store_cost.sh $(BUILD_DIR) $(BENCH)

# What sampling during the job costs: 2,000 and 75,000 pods, sampling off
# and every 1s, a job of JOB seconds (default 30); BENCH=quick: 2,000 only.
.PHONY: bench-sampling
bench-sampling: build
	PAIRS=$(PAIRS) tests/bench/sampling_cost.sh $(BUILD_DIR) $(BENCH)

# netpol-client's lab (docs/client.md, "The lab"): 20, 100 and 1,000 tests,
# drop and reject, enforced over CLIENT_WINDOW seconds; error quantiles,
# SYNs per test, CPU and RSS. Needs root (network namespaces, nftables).
# REAL_CLIENT=path adds the real client, built by hand, side by side.
CLIENT_WINDOW ?= 30
CLIENT_SIZES ?= 20 100 1000
REAL_CLIENT ?=
.PHONY: bench-client
bench-client: build
	$(SUDO) python3 tests/client/lab/client_lab.py bench \
	  --client $(BUILD_DIR)/client/netpol-client --out $(BUILD_DIR)/bench-client \
	  --window $(CLIENT_WINDOW) --sizes $(CLIENT_SIZES) \
	  $(if $(REAL_CLIENT),--real-client $(REAL_CLIENT))

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan

# make deploy-check  proves the image's runtime stage without a container engine:
# a debootstrap'd bookworm root (cached in $(BUILD_DIR)/deploy-check) with exactly
# deploy/runtime-packages.txt runs the proxy as uid 1000 through a simulated
# round. Needs root and a Debian mirror; not part of `make test` or CI.
.PHONY: deploy-check
deploy-check: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j$(JOBS) --target netpol-proxy netpol-podsim
	$(SUDO) env BUILD_DIR="$(abspath $(BUILD_DIR))" deploy/check-runtime.sh

# make fuzz-build  builds the libFuzzer targets (tests/fuzz) with clang, ASan
#                  and UBSan in $(FUZZ_BUILD_DIR), installing
#                  deploy/fuzz-packages.txt if missing. Not part of `make test`.
# make fuzz        replays tests/fuzz/regressions, then fuzzes each target for
#                  FUZZ_SECONDS on a copy of its seed corpus; fails on any crash.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_PACKAGES := $(shell sed -e 's/\#.*//' deploy/fuzz-packages.txt)

.PHONY: fuzz-deps fuzz-build fuzz
fuzz-deps: deps
	$(call install_missing,$(FUZZ_PACKAGES))

fuzz-build: fuzz-deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -DNETPOL_FUZZ=ON \
	  -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
	cmake --build $(FUZZ_BUILD_DIR) -j$(JOBS) --target netpol-fuzz

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make lab  builds netpol-lab and runs every shipped scenario (tests/lab/scenarios,
# but soak.json: make soak runs that) into LAB_OUT: report.md, summary.json and
# one SVG per scenario; proxy logs and /status samples under LAB_OUT/logs
# (docs/experiments.md). Takes about 5 minutes. The published report is
# docs/lab: make lab LAB_OUT=docs/lab refreshes it.
LAB_OUT ?= $(BUILD_DIR)/lab
LAB_ORDER := clean dead-5pct hung hung-short-timeouts slow-tail slow-node everything large-shared ci
LAB_SCENARIOS ?= $(foreach s,$(LAB_ORDER),tests/lab/scenarios/$(s).json) \
  $(filter-out $(foreach s,$(LAB_ORDER) soak,tests/lab/scenarios/$(s).json),$(wildcard tests/lab/scenarios/*.json))
.PHONY: lab
lab: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j$(JOBS) --target netpol-lab
	$(BUILD_DIR)/tests/lab/netpol-lab $(LAB_SCENARIOS) --out $(LAB_OUT)
