# MirrorState: `make run` starts the todo example, `make test` runs every
# test. Both install what is missing first (scripts/deps.sh).

BUILD      ?= build
ASAN_BUILD ?= build-asan
PORT       ?= 7420
JOBS       ?= 2

.PHONY: all deps build asan run test test-unit test-integration test-client \
        test-e2e test-npm test-install test-valgrind deb bench fuzz clean

all: build

deps:
	@scripts/deps.sh

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMS_SANITIZE=ON -DMS_WERROR=ON >/dev/null
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

test-npm: build
	@scripts/test.sh npm

test-valgrind: build
	@scripts/test.sh valgrind

test-install:
	@scripts/test.sh install

# A Debian package of a Release build installed in /usr: build-deb/*.deb.
deb:
	@cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DMS_WERROR=ON >/dev/null
	@cmake --build build-deb -j$(JOBS)
	@cd build-deb && cpack -G DEB

bench: deps build
	@scripts/bench.sh

fuzz: deps
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-deb build-release-gcc build-release-clang tests/artifacts
