# twinsim — make targets. `make run` runs the default scenario; `make test` runs every test.
GO      ?= go
BIN     := bin/twinsim
OUT     ?= out
BENCHTIME ?= 1s

.PHONY: all build run test test-deps bench lint fuzz figures workloads clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/twinsim

## run: the default scenario from the embedded configuration; results go to $(OUT)/<run>/
run: build
	./$(BIN) run -o $(OUT)

## test: vet, formatting and every test; the differential tests also run
## the guest programs under qemu-riscv64, which this installs when missing
test: lint test-deps
	$(GO) test -count=1 -timeout 30m ./...

## test-deps: qemu-riscv64 for the differential tests (Debian qemu-user)
test-deps:
	@if ! command -v qemu-riscv64 >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing qemu-user for qemu-riscv64"; \
			apt-get update -qq && apt-get install -y -qq qemu-user >/dev/null; \
		else \
			echo "qemu-riscv64 is needed by the differential tests; install it (Debian: apt-get install qemu-user)" >&2; \
			exit 1; \
		fi; \
	fi

## bench: engine and hot-path benchmarks, the engine side by side with Akita's, and guest
## programs under twinsim exec side by side with qemu-riscv64
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./sim/ ./memory/ ./cache/ ./workloads/ ./experiment/ ./cpu/ ./dbt/ ./nic/
	./scripts/enginecmp.sh
	./scripts/dbtbench.sh

## lint: go vet and a gofmt check
lint:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi

## figures: the validation figure F0 and the patent figures (quick sweeps) as PNG, SVG and CSV, with figures-out/index.md
figures: build
	./$(BIN) figures -o figures-out

## workloads: rebuild the committed guest programs (static RV64GC Linux ELFs) from workloads/src and
## record their expected behaviour under qemu-riscv64; kvserver keeps its symbols (a recovery finds
## its allocator's padding word by name)
RISCV_CC ?= riscv64-linux-gnu-gcc
WORKLOADS := sieve crc32 matmul qsort malloc printf recursion interp jit faults fpops intops ubench smc mixpages kvserver kvclient threads memval
workloads:
	@command -v $(RISCV_CC) >/dev/null || { echo "$(RISCV_CC) not found; install it (Debian: apt-get install gcc-riscv64-linux-gnu libc6-dev-riscv64-cross)"; exit 1; }
	@mkdir -p workloads/bin
	@for w in $(WORKLOADS); do \
		strip=-s; [ $$w = kvserver ] && strip=; \
		echo "$(RISCV_CC) -static -O2 $$strip -o workloads/bin/$$w workloads/src/$$w.c -lm"; \
		$(RISCV_CC) -static -O2 $$strip -o workloads/bin/$$w workloads/src/$$w.c -lm || exit 1; \
	done
	./scripts/expect.sh

## fuzz: a short run of every fuzz target (FUZZTIME each)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./configs/
	$(GO) test -run '^$$' -fuzz '^FuzzParseSweep$$' -fuzztime $(FUZZTIME) ./experiment/
	$(GO) test -run '^$$' -fuzz '^FuzzFailover$$' -fuzztime $(FUZZTIME) ./experiment/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadProgram$$' -fuzztime $(FUZZTIME) ./dbt/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./dbt/

clean:
	rm -rf bin $(OUT)
