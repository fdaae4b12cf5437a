# dfpeer — build, test, lint, bench, demo.
GO        ?= go
BIN       := bin/dfpeer
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X github.com/dragonflydb/dfpeer/internal/cmdutil.Version=$(VERSION) -X github.com/dragonflydb/dfpeer/internal/cmdutil.Commit=$(COMMIT)
STATICCHECK_VERSION := v0.8.2
TOOLS     := $(CURDIR)/bin/tools

.PHONY: build test test-short lint bench fuzz demo clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dfpeer

# The whole suite, with the race detector. End-to-end tests build the
# binary themselves and drive it (also under a pseudo-terminal).
test:
	$(GO) test -race -count=1 -timeout 20m ./...

test-short:
	$(GO) test -count=1 ./...

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(TOOLS)/staticcheck
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	@test -z "$$(gofmt -l cmd internal pkg)" || { echo "gofmt needed:"; gofmt -l cmd internal pkg; exit 1; }

# Benchmarks print figures; they never fail on timing.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 5x ./pkg/dfcloud ./internal/cmd/aws ./internal/cmd/gcp ./internal/cmd/azure ./internal/e2e

# Fuzz targets, each for a bounded time (FUZZTIME); not part of `make test`.
# Seeds live in each package's testdata/fuzz/<target>/; what the fuzzer
# finds goes there too and then runs as a regular test case.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzClean$$' -fuzztime $(FUZZTIME) ./internal/textsafe
	$(GO) test -run '^$$' -fuzz '^FuzzCLIArgs$$' -fuzztime $(FUZZTIME) ./internal/app

# The main job on the sandbox: no account, no credentials needed. The
# sandbox remembers its state between runs; the demo uses a throwaway state
# directory, so every `make demo` starts afresh and the user's own sandbox
# state is left alone.
demo: build
	@state=$$(mktemp -d) && trap 'set +x; rm -rf "$$state"' EXIT && export XDG_STATE_HOME="$$state" && set -ex && \
	./$(BIN) --sandbox networks list && \
	./$(BIN) --sandbox aws connect --network demo-aws --vpc-id vpc-0a1b2c3d4e5f60001 --yes --no-input && \
	./$(BIN) --sandbox gcp connect --network demo-gcp --vpc app-network --yes --no-input && \
	./$(BIN) --sandbox azure connect --network demo-azure --vnet app-vnet --yes --no-input && \
	./$(BIN) --sandbox connections list && \
	./$(BIN) --sandbox aws status --network demo-aws --vpc-id vpc-0a1b2c3d4e5f60001 && \
	./$(BIN) --sandbox gcp status --network demo-gcp --vpc app-network && \
	./$(BIN) --sandbox azure status --network demo-azure --vnet app-vnet && \
	./$(BIN) --sandbox aws disconnect --network demo-aws --vpc-id vpc-0a1b2c3d4e5f60001 --yes --no-input && \
	./$(BIN) --sandbox gcp disconnect --network demo-gcp --vpc app-network --yes --no-input && \
	./$(BIN) --sandbox azure disconnect --network demo-azure --vnet app-vnet --yes --no-input && \
	./$(BIN) --sandbox connections list

clean:
	rm -rf bin
