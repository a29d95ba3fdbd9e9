# PrimoART — the two commands a new user needs are `make run` and `make test`.
#
#   make run      install what is missing, build, start every role on the embedded stores
#   make test     install, build (normal and ASan+UBSan), start PostgreSQL and s3rver, run the suite
#   make build    build only (build/)
#   make bench    run the benchmarks (bench/*/run) and print their figures
#   make format   clang-format every C++ file
#   make clean    remove build directories

BUILD_DIR ?= build
CMAKE_FLAGS ?=

.PHONY: all build run test bench format clean deps

all: build

deps:
	@./scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPA_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR)

run: build
	@./scripts/run-server $(BUILD_DIR)/src/app/primoart

test:
	@./scripts/install-deps test
	@./scripts/run-tests

bench:
	@./scripts/install-deps bench
	@$(MAKE) --no-print-directory build
	@./bench/run-all $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan
