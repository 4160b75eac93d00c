# Sluice: the two entry points are `make demo` and `make test`; both do their own set-up.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := liblz4-dev libzstd-dev libnghttp2-dev pkg-config curl
BENCH_ARGS ?=

.PHONY: spark-and-image-test format demo demo-smoke test swift-test ops-test deploy-test setup build release clean docs-config spark-client java-test spark-test spark-bench bench image-test

# Installs the C libraries' -dev packages (and curl, which the operations API tests drive) when missing (needs root
# or sudo).
setup:
	@if ! pkg-config --exists liblz4 libzstd libnghttp2 2>/dev/null || ! command -v curl >/dev/null; then \
	  echo "installing $(APT_PACKAGES)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Starts an embedded master and two workers on loopback, runs the throughput benchmark, stops, exits 0.
demo: release
	"$$($(SWIFT) build -c release --show-bin-path)/sluice-bench" $(BENCH_ARGS)

# Every test: Swift suites (unit and in-process mini cluster), a short run of the demo, the Java client's JUnit
# tests, the operations API with third-party clients (prometheus_client, h2), then real Spark jobs comparing Sluice
# with Spark's built-in shuffle on every Spark minor from 3.5 on: pyspark 3.5.9 (full job set and failure cases),
# 4.0.5, 4.1.4 and 4.2.1 (smoke set and failure cases), 4.3.0 (full job set); the row checksum on 4.1.4, 4.2.1, 4.3.0.
# The deployment manifests are validated first: they take seconds once the binaries are built.
# Last, the Spark suites and, beside them, the container image built with buildah and a cluster started from it.
test: deploy-test swift-test demo-smoke java-test ops-test spark-and-image-test

# The Spark suites and the image test side by side (most of a Spark suite's time is JVMs starting and waiting, most
# of the image test a release build): the image test's output goes to .cache/image-test.log, printed if it fails.
spark-and-image-test: build spark-client
	@mkdir -p .cache; rm -f .cache/image-test.rc; \
	( $(MAKE) --no-print-directory image-test > .cache/image-test.log 2>&1; echo $$? > .cache/image-test.rc ) & \
	image_pid=$$!; spark=0; $(MAKE) --no-print-directory spark-test || spark=$$?; wait $$image_pid; \
	image=$$(cat .cache/image-test.rc 2>/dev/null || echo 1); \
	if [ "$$image" = 0 ]; then tail -n 3 .cache/image-test.log; else cat .cache/image-test.log; fi; \
	echo "spark-test: exit $$spark; image-test: exit $$image (log: .cache/image-test.log)"; \
	[ "$$spark" = 0 ] && [ "$$image" = 0 ]

# The demo's command line on the debug build with a small payload, so `make test` keeps the main job working (the
# release build `make demo` adds takes minutes and would test the compiler more than Sluice).
demo-smoke: build
	"$$($(SWIFT) build --show-bin-path)/sluice-bench" --bytes 32m --warmup-rounds 0

# Swift (swift-testing) suites, including the in-process mini cluster.
swift-test: setup
	scripts/check-dependencies.sh
	scripts/check-format.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The Java client, one jar per Spark line: clients/spark/build/sluice-spark-3.5_2.12-VERSION.jar and
# sluice-spark-4_2.13-VERSION.jar (installs pyspark into .cache/).
spark-client:
	clients/spark/build.sh

JUNIT_CONSOLE_JAR := /usr/share/java/junit-platform-console-standalone.jar

# Java client tests (JUnit 5), including interop with the Swift servers built by `swift build`.
java-test: setup spark-client
	@if [ ! -f $(JUNIT_CONSOLE_JAR) ]; then \
	  echo "installing junit5"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq junit5; \
	fi
	$(SWIFT) build --product sluice-master
	$(SWIFT) build --product sluice-worker
	JUNIT_CONSOLE_JAR=$(JUNIT_CONSOLE_JAR) clients/spark/run-tests.sh

# The Kubernetes manifests and Spark examples under deploy/, offline: rendered, validated against Kubernetes' and the
# CRDs' schemas, checked against the servers' configuration, and a self-test (venv in .cache/; docs/deploy.md).
deploy-test: build
	scripts/deploy-tests.sh

# The operations API against master and worker processes with Prometheus' parser and an HTTP/2 client (venv in .cache/).
ops-test: build
	scripts/ops-tests.sh

# Spark suites (real pyspark 3.5.9, 4.0.5, 4.1.4, 4.2.1, 4.3.0, builtin vs Sluice shuffle, two suites at a time);
# creates one venv per Spark minor under .cache/.
spark-test: build spark-client
	scripts/spark-tests.sh

# The container image (docker/Dockerfile) built here with buildah from locally made base images (cached in the
# containers storage and .cache/images), then checked: shared libraries, uid 10001, --version, a master and two
# workers from the image taking a replicated push from the host's sluice-bench, hadolint, the compose schema
# (docs/deploy.md, "The image"). Installs podman, buildah and debootstrap when missing (root or sudo).
image-test: build spark-client
	SLUICE_BENCH="$$($(SWIFT) build --show-bin-path)/sluice-bench" scripts/image-tests.sh

# Formats every Swift file with .swift-format (120 columns); `make test` fails on unformatted files.
format:
	swift format -i -r -p Sources Tests Benchmarks Package.swift

# Spark benchmark: groupBy + join (>2 GB shuffled) in local-cluster, builtin vs Sluice interleaved; prints the ratio.
SPARK_BENCH_ARGS ?=
# The whole benchmark suite, every ratio of docs/performance.md's targets table in one run: sluice-bench's target
# scenarios against same-run baselines, then the two Spark jobs with builtin shuffle vs Sluice, 3 interleaved rounds
# each (the groupBy + join; 200 map tasks x 2,000 reduce partitions of small blocks, map and reduce stages apart).
# Takes ~40 minutes on the 2-core machines.
bench: release spark-client
	"$$($(SWIFT) build -c release --show-bin-path)/sluice-bench" --suite targets --rounds 3 --json bench.json
	$(MAKE) spark-bench SPARK_BENCH_ARGS="--rounds 3"
	$(MAKE) spark-bench SPARK_BENCH_ARGS="--job many-partitions --rounds 3 --sides builtin,sluice"

spark-bench: release
	@.cache/pyspark-3.5/bin/python -c "import pyspark" 2>/dev/null || \
	  { python3 -m venv .cache/pyspark-3.5 && .cache/pyspark-3.5/bin/python -m pip install -q pyspark==3.5.9 pytest; }
	.cache/pyspark-3.5/bin/python Benchmarks/spark/spark_bench.py $(SPARK_BENCH_ARGS)

# Regenerates docs/configuration.md and config/{master,worker}.conf from the config registry.
docs-config: build
	bin="$$($(SWIFT) build --show-bin-path)"; \
	"$$bin/sluice-master" --print-config-docs > docs/configuration.md && \
	"$$bin/sluice-master" --print-sample-config > config/master.conf && \
	"$$bin/sluice-worker" --print-sample-config > config/worker.conf

clean:
	rm -rf .build
