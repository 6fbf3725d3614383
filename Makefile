# Thin wrapper over CMake. The two commands a new user needs: `make demo` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
SHM_TESTS  := sealed_region_test ring_consumer_test ring_threads_test message_codec_test channel_end_test
JOBS       ?= $(shell nproc)
CMAKE_GEN  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build asan tsan fuzz test test-unit test-asan demo bench bench-load bench-inspection check-config clean format

all: build

deps:
	scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) \
	  -DCMAKE_BUILD_TYPE=Debug -DDPUGUARD_SANITIZE=ON \
	  -DDPUGUARD_BENCH=OFF

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# ThreadSanitizer (clang-14) build of the shm tests only: the ring protocol across threads and
# the hostile-peer processes.
$(TSAN_BUILD)/CMakeCache.txt:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDPUGUARD_TSAN=ON \
	  -DDPUGUARD_BENCH=OFF -DDPUGUARD_INTEGRATION=OFF

tsan: deps $(TSAN_BUILD)/CMakeCache.txt
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(SHM_TESTS)

# libFuzzer + ASan + UBSan builds of the fuzz targets (fuzz/run uses the same directory).
$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDPUGUARD_SANITIZE=ON -DDPUGUARD_FUZZ_ENGINE=libfuzzer \
	  -DDPUGUARD_BENCH=OFF -DDPUGUARD_INTEGRATION=OFF

fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets

# Full suite: unit + fuzz replay + integration with the GCC build, a short libFuzzer run of
# every fuzz target (fuzz/run smoke), then unit + fuzz replay + integration again with
# ASan+UBSan (clang-14): there the proxy itself runs sanitized under real traffic; last the
# shm tests under ThreadSanitizer. ctest prints the summary line CI reads. First the size of
# the request hot path (scripts/hot-path-lines), so that its growth shows in review.
test: build asan fuzz tsan
	scripts/hot-path-lines
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -L smoke
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -L shm

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|fuzz'

demo: build
	scripts/demo

bench: build
	scripts/bench

# dpuguard vs HAProxy vs nginx under wrk, alternating rounds; results, table and chart in bench/results/.
bench-load: build
	bench/load/run

# The same dpuguard with inspection off and everything on (250 signatures, inference
# validation, limits), and nginx + ModSecurity + OWASP CRS, on shared and on pinned cores
# (BENCH_PINNED=1: pinned only, 0: shared only); results in bench/results/inspection.{json,md}.
bench-inspection: build
	bench/load/inspection

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD) build-afl build-afl-cmplog build-cov

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i
