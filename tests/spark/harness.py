"""Shared plumbing for the Spark tests and the Spark benchmark (no pytest, no pyspark imports here).

- `SluiceServers`: starts one sluice-master and N sluice-workers on loopback as subprocesses, reads the ports they
  announce on stdout with a deadline, stops them (SIGTERM, then SIGKILL).
- `spark_conf(...)`: the Spark settings for a (mode, shuffle) session.
- `run_batch(...)`: runs `runner.py` (one SparkSession, many jobs) in a subprocess under a hard timeout and returns its
  JSON results; on failure the message carries the runner's output and the executors' stderr tails.
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SLUICE_MANAGER = "org.apache.spark.shuffle.sluice.SluiceShuffleManager"

# Modes: the master string and whether executors are separate JVMs.
MODES = {
    # local[N,F]: N threads, F = task.maxFailures (plain local[N] never retries a failed task).
    "local": "local[2,4]",
    "cluster": "local-cluster[2,1,1024]",
}


class HarnessError(RuntimeError):
    pass


# ----------------------------------------------------------------------------------------------------- binaries, jar
def find_binaries(prefer_release: bool = False) -> Path | None:
    """Directory holding sluice-master and sluice-worker: $SLUICE_BIN_DIR, else .build/debug (or release first)."""
    candidates = []
    if os.environ.get("SLUICE_BIN_DIR"):
        candidates.append(Path(os.environ["SLUICE_BIN_DIR"]))
    builds = ["release", "debug"] if prefer_release else ["debug", "release"]
    candidates += [REPO / ".build" / b for b in builds]
    for c in candidates:
        if all(os.access(c / n, os.X_OK) for n in ("sluice-master", "sluice-worker")):
            return c
    return None


def find_jar() -> Path | None:
    """$SLUICE_SPARK_JAR, else <repo>/clients/spark/build/sluice-spark-client.jar."""
    p = Path(os.environ.get("SLUICE_SPARK_JAR") or REPO / "clients/spark/build/sluice-spark-client.jar")
    return p if p.is_file() else None


# ------------------------------------------------------------------------------------------------------------ servers
class _Child:
    def __init__(self, name: str, argv: list[str], log_dir: Path):
        self.name = name
        self.stderr_path = log_dir / f"{name}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL)
        self.stdout_lines: list[str] = []

    def wait_for_line(self, prefix: str, deadline_s: float) -> str:
        """The first stdout line starting with `prefix`, waiting at most `deadline_s`."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        end = time.monotonic() + deadline_s
        buf = b""
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                if not sel.select(timeout=left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break  # EOF: the process exited
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    text = line.decode(errors="replace")
                    self.stdout_lines.append(text)
                    if text.startswith(prefix):
                        return text
        finally:
            sel.close()
        raise HarnessError(f"{self.name} did not print '{prefix}...' within {deadline_s:.0f}s "
                           f"(exit code {self.proc.poll()}); stdout: {self.stdout_lines!r}\n"
                           f"stderr tail:\n{tail(self.stderr_path)}")

    def stop(self, grace_s: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._stderr.close()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


class SluiceServers:
    """A master (port 0) and `workers` workers with temporary storage directories, all on 127.0.0.1."""

    def __init__(self, bin_dir: Path, workers: int = 2, deadline_s: float = 30.0, extra_worker_args=()):
        self.scratch = Path(tempfile.mkdtemp(prefix="sluice-spark-"))
        self.children: list[_Child] = []
        try:
            master = _Child("sluice-master", [str(bin_dir / "sluice-master"), "--host", "127.0.0.1", "--port", "0"],
                            self.scratch)
            self.children.append(master)
            self.master_address = _address(master.wait_for_line("sluice-master listening on ", deadline_s))
            self.worker_addresses = []
            for i in range(workers):
                w = _Child(f"sluice-worker-{i}",
                           [str(bin_dir / "sluice-worker"), "--host", "127.0.0.1", "--port", "0",
                            "--storage-dir", str(self.scratch / f"worker-{i}"), "--master", self.master_address,
                            "--shutdown-grace-period", "200ms", *extra_worker_args], self.scratch)
                self.children.append(w)
                self.worker_addresses.append(_address(w.wait_for_line("sluice-worker listening on ", deadline_s)))
        except BaseException:
            self.stop()
            raise

    def check_alive(self) -> None:
        dead = [(c.name, c.proc.returncode) for c in self.children if c.proc.poll() is not None]
        if dead:
            raise HarnessError(f"Sluice server(s) exited: {dead}\n" + self.stderr_tails())

    def stderr_tails(self, lines: int = 30) -> str:
        return "\n".join(f"--- {c.name} stderr tail ---\n{tail(c.stderr_path, lines)}" for c in self.children)

    def stop(self) -> dict[str, int | None]:
        codes = {c.name: c.stop() for c in reversed(self.children)}
        shutil.rmtree(self.scratch, ignore_errors=True)
        return codes


def _address(line: str) -> str:
    host_port = line.rsplit(" ", 1)[-1].strip()
    host, port = host_port.rsplit(":", 1)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"{host}:{int(port)}"


def tail(path: Path, lines: int = 40) -> str:
    try:
        data = Path(path).read_bytes()[-64 * 1024:].decode(errors="replace").splitlines()
        return "\n".join(data[-lines:])
    except OSError as e:
        return f"(unreadable: {e})"


# ------------------------------------------------------------------------------------------------------ Spark config
def spark_conf(mode: str, shuffle: str, jar: Path | None, master_address: str | None,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    """Settings for one session. shuffle is 'builtin' or 'sluice'."""
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "1g",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.executor.memory": "640m",
        "spark.sql.shuffle.partitions": "8",
        "spark.default.parallelism": "4",
        "spark.sql.adaptive.enabled": "false",  # jobs that want AQE turn it on themselves
        "spark.task.maxFailures": "4",
        "spark.python.worker.reuse": "true",
        "spark.executor.heartbeatInterval": "5s",
    }
    if mode == "cluster":
        conf["spark.cores.max"] = "2"
    if shuffle == "sluice":
        if jar is None or master_address is None:
            raise HarnessError("the sluice shuffle needs the client jar and a master address")
        conf.update({
            "spark.shuffle.manager": SLUICE_MANAGER,
            "spark.sluice.master.address": master_address,
            # Spark 3.5 needs the jar on both class paths (spark.jars alone: executors loop on ClassNotFound).
            "spark.driver.extraClassPath": str(jar),
            "spark.executor.extraClassPath": str(jar),
        })
    elif shuffle != "builtin":
        raise HarnessError(f"unknown shuffle {shuffle!r}")
    conf.update(extra or {})
    return conf


def child_env(work_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env["SPARK_WORKER_DIR"] = str(work_dir)  # local-cluster executors' logs: <work_dir>/app-*/N/stderr
    env["PYTHONHASHSEED"] = "0"  # PySpark's portable_hash refuses to run in executors without it
    env.pop("SPARK_HOME", None)
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def executor_stderr_tails(work_dir: Path, lines: int = 40) -> str:
    files = sorted(Path(work_dir).glob("app-*/*/stderr"))
    if not files:
        return "(no executor logs)"
    return "\n".join(f"--- {f.relative_to(work_dir)} (tail) ---\n{tail(f, lines)}" for f in files[-4:])


# ----------------------------------------------------------------------------------------------------- batch runner
def run_batch(python: str, mode: str, shuffle: str, jobs: list[str], conf: dict[str, str], timeout_s: float,
              label: str = "", master: str | None = None) -> dict:
    """Runs `jobs` in one SparkSession in a subprocess (runner.py) and returns its JSON report:
    {"jobs": {name: {"ok": bool, "result": ..., "error": str, "seconds": float}}, "spark_version": ..., ...}.
    Raises HarnessError (with outputs and executor stderr tails) when the runner does not produce a report."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"sluice-spark-work-{label or mode}-"))
    out = work_dir / "report.json"
    spec = {"master": master or MODES[mode], "conf": conf, "jobs": jobs, "out": str(out),
            "scratch": str(work_dir / "scratch")}
    spec_path = work_dir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    log_path = work_dir / "runner.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([python, str(HERE / "runner.py"), str(spec_path)], stdout=log,
                                stderr=subprocess.STDOUT, env=child_env(work_dir), start_new_session=True)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise HarnessError(f"[{label}] Spark batch ({mode}/{shuffle}) timed out after {timeout_s:.0f}s; "
                               f"jobs={jobs}\n--- runner output tail ---\n{tail(log_path, 60)}\n"
                               f"{executor_stderr_tails(work_dir)}")
        finally:
            _kill_group(proc)  # leftovers (the JVM, executors) of a runner that exited
    elapsed = time.monotonic() - started
    if proc.returncode != 0 or not out.exists():
        raise HarnessError(f"[{label}] Spark batch ({mode}/{shuffle}) exited {proc.returncode} without a report\n"
                           f"--- runner output tail ---\n{tail(log_path, 60)}\n{executor_stderr_tails(work_dir)}")
    report = json.loads(out.read_text())
    report["seconds"] = elapsed
    report["work_dir"] = str(work_dir)
    failed = [n for n, r in report["jobs"].items() if not r["ok"]]
    if failed:
        report["executor_stderr"] = executor_stderr_tails(work_dir)
        report["runner_tail"] = tail(log_path, 40)
    elif not os.environ.get("SLUICE_KEEP_SPARK_WORK"):
        shutil.rmtree(work_dir, ignore_errors=True)
    return report


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
