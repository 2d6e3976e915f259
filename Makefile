# dcos — one static binary. `make run` and `make test` set up a fresh Debian 12 machine by
# themselves: missing packages are installed (packaging/install-deps.sh), Meson is set up once,
# and builds are incremental (ccache makes fresh clones fast too).

BUILD       ?= build
DEBUG_BUILD ?= build-debug
ASAN_BUILD  ?= build-asan
ARGS        ?=

.PHONY: all deps build debug run test test-asan e2e-deps bench dist clean

all: build

deps:
	@./packaging/install-deps.sh

$(BUILD)/build.ninja: | deps
	@meson setup $(BUILD) --buildtype=release -Doptimization=2 >/dev/null

$(DEBUG_BUILD)/build.ninja: | deps
	@meson setup $(DEBUG_BUILD) --buildtype=debug >/dev/null

# Sanitizers need the dynamic runtime, so this configuration does not link statically.
$(ASAN_BUILD)/build.ninja: | deps
	@meson setup $(ASAN_BUILD) --buildtype=debug -Dstatic_link=false \
	  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD)

debug: deps $(DEBUG_BUILD)/build.ninja
	@ninja -C $(DEBUG_BUILD)

run: build
	./$(BUILD)/dcos dev $(ARGS)

# The browser tests' npm packages (tests/e2e/node_modules); when they cannot be installed the
# browser tests are skipped with the reason printed.
e2e-deps: deps
	@./tests/e2e/setup.sh

test: build e2e-deps
	@python3 tests/run.py $(BUILD)

test-asan: deps $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  python3 tests/run.py $(ASAN_BUILD)

# Benchmarks print ratios against references measured in the same run; nothing passes or fails.
bench: build
	@./packaging/install-deps.sh --bench
	@./$(BUILD)/benchmarks/allocator-bench
	@./$(BUILD)/benchmarks/marathon-scale-bench
	@python3 benchmarks/apps_http_bench.py --binary $(BUILD)/dcos
	@python3 benchmarks/launch_bench.py --binary $(BUILD)/dcos
	@python3 benchmarks/dns_bench.py --binary $(BUILD)/dcos

# The release tarball: the stripped static binary, the systemd units, install.sh and a README
# (packaging/README.md), as $(BUILD)/dcos-<version>-linux-<arch>.tar.gz.
dist: build
	@set -e; version=$$(./$(BUILD)/dcos --version | awk 'NR == 1 { print $$2 }'); \
	  name=dcos-$$version-linux-$$(uname -m); stage=$(BUILD)/dist/$$name; \
	  rm -rf $(BUILD)/dist; mkdir -p $$stage; \
	  cp $(BUILD)/dcos $$stage/dcos; strip $$stage/dcos; \
	  if ldd $$stage/dcos >/dev/null 2>&1; then echo "make dist: $(BUILD)/dcos is not static" >&2; exit 1; fi; \
	  cp packaging/install.sh packaging/dcos-master.service packaging/dcos-agent.service $$stage/; \
	  cp packaging/README.md $$stage/README.md; \
	  tar -C $(BUILD)/dist -czf $(BUILD)/$$name.tar.gz $$name; \
	  echo "$(BUILD)/$$name.tar.gz ($$(du -k $(BUILD)/$$name.tar.gz | cut -f1) KiB)"

clean:
	rm -rf $(BUILD) $(DEBUG_BUILD) $(ASAN_BUILD)
