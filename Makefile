# make run   installs what is missing, builds, starts the proxy on :9002
# make test  installs what is missing, builds, runs every test (ctest)
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
ARGS ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PACKAGES := $(shell sed -e 's/\#.*//' deploy/build-packages.txt)

.PHONY: all deps build run test clean

all: build

deps:
	@missing=""; \
	for pkg in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/netpol-proxy $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300

clean:
	rm -rf $(BUILD_DIR)

# make deploy-check  proves the image's runtime stage without a container engine:
# a debootstrap'd bookworm root (cached in $(BUILD_DIR)/deploy-check) with exactly
# deploy/runtime-packages.txt runs the proxy as uid 1000 through a simulated
# round. Needs root and a Debian mirror; not part of `make test` or CI.
.PHONY: deploy-check
deploy-check: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j$(JOBS) --target netpol-proxy netpol-podsim
	$(SUDO) env BUILD_DIR="$(abspath $(BUILD_DIR))" deploy/check-runtime.sh
