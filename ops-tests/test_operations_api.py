"""The operations API against real sluice-master and sluice-worker processes, with third-party clients: Prometheus'
own text parser (prometheus_client) and an HTTP/2 client (h2) multiplexing requests on one connection. Data is moved
by sluice-bench against the running cluster, so the counters and histograms must move."""
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request

import h2.config
import h2.connection
import h2.events
import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SLUICE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))


def start(args, line_prefixes, scratch, name):
    """Starts a server; returns the process and the ports announced on the lines starting with line_prefixes."""
    out = open(os.path.join(scratch, name + ".out"), "w+")
    err = open(os.path.join(scratch, name + ".err"), "w")
    proc = subprocess.Popen(args, stdout=out, stderr=err)
    deadline = time.time() + 30
    while time.time() < deadline:
        out.seek(0)
        text = out.read()
        ports = [re.search(re.escape(p) + r"\S*:(\d+)", text) for p in line_prefixes]
        if all(ports):
            return proc, [int(m.group(1)) for m in ports]
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"{name} did not announce its ports; stderr: {open(err.name).read()[-2000:]}")


@pytest.fixture(scope="module")
def cluster():
    scratch = tempfile.mkdtemp(prefix="sluice-ops-")
    procs = []
    try:
        master, (data, http) = start(
            [os.path.join(BIN, "sluice-master"), "--host", "127.0.0.1", "--port", "0", "--http-port", "0",
             "--worker-heartbeat-interval", "200ms", "--log-level", "warning"],
            ["sluice-master listening on ", "sluice-master operations API on "], scratch, "master")
        procs.append(master)
        workers = []
        for i in range(2):
            worker, (_, worker_http) = start(
                [os.path.join(BIN, "sluice-worker"), "--host", "127.0.0.1", "--port", "0", "--http-port", "0",
                 "--master", f"127.0.0.1:{data}", "--worker-id", f"ops-worker-{i}", "--memory-budget", "256m",
                 "--storage-dir", os.path.join(scratch, f"w{i}"), "--heartbeat-retry-interval", "100ms",
                 "--log-level", "warning"],
                ["sluice-worker listening on ", "sluice-worker operations API on "], scratch, f"worker{i}")
            procs.append(worker)
            workers.append(worker_http)
        deadline = time.time() + 30
        while time.time() < deadline and get(http, "/readyz")[0] != 200:
            time.sleep(0.05)
        yield {"master_data": data, "master_http": http, "workers_http": workers}
    finally:
        for p in procs:
            p.kill()
            p.wait()


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def samples(port):
    """Every sample of /metrics, parsed by Prometheus' own parser: {(name, labels): value}."""
    status, body = get(port, "/metrics")
    assert status == 200
    result = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            result[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return result


def h2_get_many(port, paths):
    """GETs every path on one HTTP/2 connection (prior knowledge), all streams open at once."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    streams = {}
    for path in paths:
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":path", path), (":scheme", "http"),
                                (":authority", f"127.0.0.1:{port}")], end_stream=True)
        streams[sid] = {"path": path, "status": None, "body": b"", "done": False}
    sock.sendall(conn.data_to_send())
    while not all(s["done"] for s in streams.values()):
        data = sock.recv(65536)
        assert data, "server closed the HTTP/2 connection"
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                streams[event.stream_id]["status"] = int(dict(event.headers)[b":status"])
            elif isinstance(event, h2.events.DataReceived):
                streams[event.stream_id]["body"] += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                streams[event.stream_id]["done"] = True
        sock.sendall(conn.data_to_send())
    sock.close()
    return {s["path"]: (s["status"], s["body"]) for s in streams.values()}


def test_http2_client_multiplexes_every_endpoint(cluster):
    paths = ["/healthz", "/readyz", "/version", "/metrics", "/api/v1/workers", "/api/v1/applications", "/nowhere"]
    answers = h2_get_many(cluster["master_http"], paths)
    assert answers["/healthz"] == (200, b"ok\n")
    assert answers["/readyz"][0] == 200
    assert json.loads(answers["/version"][1])["name"] == "sluice-master"
    assert sorted(w["workerId"] for w in json.loads(answers["/api/v1/workers"][1])) == ["ops-worker-0",
                                                                                      "ops-worker-1"]
    assert answers["/nowhere"][0] == 404
    worker = h2_get_many(cluster["workers_http"][0], ["/api/v1/worker", "/readyz"])
    assert json.loads(worker["/api/v1/worker"][1])["workerId"] == "ops-worker-0"
    assert worker["/readyz"][0] == 200


def test_metrics_parse_and_move_with_data(cluster):
    before = [samples(p) for p in cluster["workers_http"]]
    bench = subprocess.run(
        [os.path.join(BIN, "sluice-bench"), "--master", f"127.0.0.1:{cluster['master_data']}", "--bytes", "8m",
         "--suite", "quick", "--no-mixed", "--rounds", "1", "--warmup-rounds", "0"],
        capture_output=True, text=True, timeout=300)
    assert bench.returncode == 0, bench.stdout[-2000:] + bench.stderr[-2000:]
    after = [samples(p) for p in cluster["workers_http"]]
    key = ("sluice_worker_pushed_bytes_total", ())
    assert sum(a.get(key, 0) for a in after) > sum(b.get(key, 0) for b in before)
    fetched = ("sluice_worker_fetched_bytes_total", ())
    assert sum(a.get(fetched, 0) for a in after) > sum(b.get(fetched, 0) for b in before)
    count = ("sluice_worker_push_duration_seconds_count", ())
    assert sum(a.get(count, 0) for a in after) > 0
    assert all(("sluice_worker_memory_capacity_bytes", ()) in a for a in after)
    master = samples(cluster["master_http"])
    assert master[("sluice_master_workers", (("state", "live"),))] == 2


def test_a_closed_standard_error_does_not_kill_the_worker(cluster):
    """`sluice-worker ... 2>&1 | head`: once the reader of its standard error is gone, the worker goes on serving."""
    scratch = tempfile.mkdtemp(prefix="sluice-pipe-")
    worker = subprocess.Popen(
        [os.path.join(BIN, "sluice-worker"), "--host", "127.0.0.1", "--port", "0", "--http-port", "0",
         "--master", f"127.0.0.1:{cluster['master_data']}", "--worker-id", "pipe-worker",
         "--storage-dir", os.path.join(scratch, "w"), "--log-level", "debug"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = worker.stdout.readline().decode()
        assert line.startswith("sluice-worker listening on "), line
        http = int(re.search(r":(\d+)$", worker.stdout.readline().decode().strip()).group(1))
        worker.stderr.close()  # nobody reads its logs any more: every later write gets EPIPE
        deadline = time.time() + 30
        while time.time() < deadline:  # heartbeats and debug logging go on meanwhile
            workers = json.loads(get(cluster["master_http"], "/api/v1/workers")[1] or b"[]")
            if any(w["workerId"] == "pipe-worker" for w in workers):
                break
            time.sleep(0.1)
        for _ in range(20):
            assert get(http, "/healthz") == (200, b"ok\n")
            time.sleep(0.05)
        assert worker.poll() is None, f"the worker died with {worker.returncode}"
    finally:
        worker.kill()
        worker.wait()
