# The two commands of the README:
#   make demo   set everything up, build, analyse the bundled sample call
#   make test   set everything up, run the whole test suite and the lints
#
# Heavier jobs: make devset (build the development set), make eval (score it),
# make bench (criterion benches), make peers (compare with WebRTC VAD/Silero).

CARGO ?= cargo
OUT ?= hearken-out

.PHONY: setup build demo test lint devset eval bench peers model

setup:
	scripts/setup.sh

build: setup
	$(CARGO) build --release --locked

demo: build
	./target/release/hearken analyze samples/demo-call.wav --out $(OUT) --format json,rttm,csv,html,srt,vtt,txt
	@echo "report: $(OUT)/demo-call.json  page: $(OUT)/demo-call.html  transcript: $(OUT)/demo-call.txt  summary: $(OUT)/summary.csv"

test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked --release

devset:
	scripts/fetch-sources.sh target/sources
	python3 scripts/make_devset.py --sources target/sources --out target/devset

eval: build
	./target/release/hearken eval --ref target/devset/ref target/devset/stereo

bench:
	$(CARGO) bench --locked

peers:
	scripts/peers/setup.sh

model:
	scripts/fetch-model.sh
