# MirrorState: `make run` starts the todo example, `make test` runs every
# test. Both install what is missing first (scripts/deps.sh).

BUILD      ?= build
ASAN_BUILD ?= build-asan
PORT       ?= 7420
JOBS       ?= 2

.PHONY: all deps build asan run test test-unit test-integration test-client \
        test-e2e test-package test-valgrind bench fuzz clean

all: build

deps:
	@scripts/deps.sh

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

run: deps build
	./$(BUILD)/mirrorstate serve --port $(PORT) \
	  --file examples/todo/state.json --static examples/todo

test: deps build asan
	@scripts/test.sh

test-unit: build asan
	@scripts/test.sh unit

test-integration: build asan
	@scripts/test.sh integration

test-client: build
	@scripts/test.sh client

test-e2e: build
	@scripts/test.sh e2e

test-package: build
	@scripts/test.sh package

test-valgrind: build
	@scripts/test.sh valgrind

bench: deps build
	@scripts/bench.sh

fuzz: deps
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) tests/artifacts
