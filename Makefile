# User-facing targets; the build itself is CMake (one build system).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 20
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
# ON in CI: warnings are errors in the sanitizer and fuzz builds.
WERROR     ?= OFF

.PHONY: all deps build test test-asan test-tsan fuzz fuzz-run demo demo-library bench install clean format format-check

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSC_SANITIZE=ON -DSC_BENCH=OFF -DSC_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The tests whose code runs threads (irpd: the password-check pool and the
# store's writer thread; the store's own tests) under ThreadSanitizer.
# (irpd_durability, SIGKILL during 200000 registrations, is too slow under TSan
# and runs no thread the others do not.)
TSAN_TESTS ?= irpd|store
TSAN_SKIP ?= irpd_durability
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSC_TSAN=ON -DSC_BENCH=OFF -DSC_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)' -E '$(TSAN_SKIP)'

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_FUZZ=ON -DSC_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@echo "fuzzers are in $(FUZZ_BUILD)/fuzz/; run e.g. $(FUZZ_BUILD)/fuzz/fuzz_xml fuzz/corpus/xml"

# Every fuzz target for FUZZ_SECONDS on its seed corpus (CI does this).
fuzz-run: fuzz
	sh scripts/fuzz_run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The real system on loopback: irpd, two enrolled users, their two agents.
demo: deps build
	sh scripts/demo.sh $(BUILD)

# The library alone, embedded in a small program (examples/sixchat_demo.c).
demo-library: deps build
	sh scripts/demo-library.sh $(BUILD)

bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	sh bench/run.sh $(BUILD)

# Reconfigure with PREFIX so that sixchat.pc names where the files go.
install:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
