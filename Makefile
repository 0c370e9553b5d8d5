# The two commands of the README: `make run` and `make test`. Everything else is a helper.
.PHONY: setup build run test test-swift test-e2e bench generate clean

setup:
	@scripts/setup.sh

build: setup
	swift build

## Installs what is missing, builds in release mode, and serves PhotoVault on 127.0.0.1:50051.
run: setup
	swift build -c release
	scripts/run.sh

## Installs what is missing, builds, and runs every test (Swift, then the end-to-end tests).
test: build
	swift test
	.venv/bin/python -m pytest -q Tests/EndToEnd

## Benchmarks of BENCHMARKS.md (release build, load generator included).
bench: setup
	scripts/bench-auth.sh
	scripts/bench-images.sh

## Regenerates the committed Swift code from Protos/ (needs network-free package copies only).
generate:
	scripts/generate-protos.sh

clean:
	rm -rf .build

## Inference benchmarks of BENCHMARKS.md (native models against Python torch, dlib, batching).
.PHONY: bench-inference
bench-inference: setup
	scripts/bench-inference.sh
