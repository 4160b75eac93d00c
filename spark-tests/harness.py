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
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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
    """$SLUICE_SPARK_JAR, else the jar of this interpreter's Spark line in <repo>/clients/spark/build/
    (sluice-spark-3.5_2.12-VERSION.jar or sluice-spark-4_2.13-VERSION.jar)."""
    if os.environ.get("SLUICE_SPARK_JAR"):
        p = Path(os.environ["SLUICE_SPARK_JAR"])
        return p if p.is_file() else None
    try:
        import pyspark
        line = "3.5_2.12" if pyspark.__version__.startswith("3.") else "4_2.13"
    except ImportError:
        line = "3.5_2.12"
    found = sorted((REPO / "clients/spark/build").glob(f"sluice-spark-{line}-*.jar"))
    return found[-1] if found else None


# ------------------------------------------------------------------------------------------------------------ servers
class _Child:
    """A server subprocess whose stdout is drained by a thread (lines kept and copied to a file) so it never blocks,
    and awaited line by line with a deadline."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env=None, merge_stderr=False):
        self.name = name
        self.stderr_path = log_dir / f"{name}.stderr"
        self.stdout_path = log_dir / f"{name}.stdout"
        if merge_stderr:
            self.stderr_path = self.stdout_path
        self._stderr = open(log_dir / f"{name}.stderr", "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT if merge_stderr else self._stderr,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.stdout_lines: list[str] = []
        self._eof = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        with open(self.stdout_path, "wb") as copy:
            for raw in self.proc.stdout:
                copy.write(raw)
                copy.flush()
                with self._cond:
                    self.stdout_lines.append(raw.decode(errors="replace").rstrip("\n"))
                    self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def wait_for_line_containing(self, text: str, deadline_s: float) -> str:
        return self.wait_for_line(text, deadline_s, anywhere=True)

    def wait_for_line(self, prefix: str, deadline_s: float, anywhere: bool = False) -> str:
        """The first stdout line starting with (or, `anywhere`, containing) `prefix`, waiting at most `deadline_s`."""
        end = time.monotonic() + deadline_s
        seen = 0
        with self._cond:
            while True:
                for line in self.stdout_lines[seen:]:
                    if line.startswith(prefix) or (anywhere and prefix in line):
                        return line
                seen = len(self.stdout_lines)
                left = end - time.monotonic()
                if self._eof or left <= 0:
                    break
                self._cond.wait(left)
        raise HarnessError(f"{self.name} did not print '{prefix}...' within {deadline_s:.0f}s "
                           f"(exit code {self.proc.poll()}); stdout tail: {self.stdout_lines[-20:]!r}\n"
                           f"stderr tail:\n{tail(self.stderr_path)}")

    def stop(self, grace_s: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        try:  # children of the process (spark-class runs java; executors under a worker)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._thread.join(5)
        self._stderr.close()
        return self.proc.returncode


class SluiceServers:
    """A master and `workers` workers with temporary storage directories, all on 127.0.0.1.

    `master_args`/`extra_worker_args` are extra flags (`worker_args_by_index` adds flags to single workers); the
    failure tests also kill, signal and restart servers (`child`, `kill`, `restart_master`, `restart_worker`). With
    `worker_ids`, worker i runs with `--worker-id sluice-worker-i` (as a StatefulSet pod does with its name), so a
    restart keeps its identity."""

    def __init__(self, bin_dir: Path, workers: int = 2, deadline_s: float = 30.0, extra_worker_args=(),
                 master_args=(), grace_period: str = "200ms", env=None, worker_ids: bool = False,
                 worker_args_by_index=None):
        self.scratch = Path(tempfile.mkdtemp(prefix="sluice-spark-"))
        self.bin_dir = bin_dir
        self.env = None if env is None else {**os.environ, **env}  # e.g. SLUICE_CLUSTER_SECRET
        self.deadline_s = deadline_s
        self.master_args = list(master_args)
        self.children: list[_Child] = []
        self.retired: list[_Child] = []  # workers that exited and were restarted (their logs stay readable)
        self.master_restarts = 0
        self.worker_restarts: list[int] = []
        self.worker_argv: list[list[str]] = []
        try:
            master = self._start_master("0")
            self.master_address = _address(master.wait_for_line("sluice-master listening on ", deadline_s))
            self.master_http = _address(master.wait_for_line("sluice-master operations API on ", deadline_s))
            self.worker_addresses = []
            self.storage_dirs = []
            for i in range(workers):
                storage = self.scratch / f"worker-{i}"
                identity = ["--worker-id", f"sluice-worker-{i}"] if worker_ids else []
                self.worker_argv.append(
                    [str(bin_dir / "sluice-worker"), "--host", "127.0.0.1", "--port", "0", "--http-port", "0",
                     "--storage-dir", str(storage), "--master", self.master_address, *identity,
                     "--shutdown-grace-period", grace_period, *extra_worker_args,
                     *(worker_args_by_index or {}).get(i, ())])
                self.worker_restarts.append(0)
                self.storage_dirs.append(storage)
                self.worker_addresses.append(self._start_worker(i))
        except BaseException:
            self.stop()
            raise

    def _start_worker(self, i: int) -> str:
        """Starts worker i with its flags (a restart: the same flags and directories, a `.N` log name); returns its
        data address once it listens."""
        name = f"sluice-worker-{i}" + (f".{self.worker_restarts[i]}" if self.worker_restarts[i] else "")
        w = _Child(name, self.worker_argv[i], self.scratch, env=self.env)
        self.children.append(w)
        return _address(w.wait_for_line("sluice-worker listening on ", self.deadline_s))

    def _start_master(self, port: str) -> _Child:
        name = "sluice-master" if not self.master_restarts else f"sluice-master-{self.master_restarts}"
        master = _Child(name, [str(self.bin_dir / "sluice-master"), "--host", "127.0.0.1", "--port", port, "--http-port", "0",
                               *self.master_args], self.scratch, env=self.env)
        self.children.insert(0, master)
        return master

    @property
    def master(self) -> _Child:
        return self.children[0]

    def worker(self, i: int) -> _Child:
        """Worker i's current process (the newest after restarts)."""
        name = f"sluice-worker-{i}" + (f".{self.worker_restarts[i]}" if self.worker_restarts[i] else "")
        return next(c for c in self.children if c.name == name)

    def restart_worker(self, i: int) -> None:
        """Starts worker i again, as a StatefulSet replaces a pod: the old process must have exited; the new one gets
        the same flags (worker id, storage directory, port 0: a new data port, which the master learns when it
        registers). Returns once it listens; the caller waits for its registration (it knows what to expect)."""
        old = self.worker(i)
        if old.proc.poll() is None:
            raise HarnessError(f"{old.name} is still running (pid {old.proc.pid}): stop it before restarting it")
        old.stop()
        self.children.remove(old)
        self.retired.append(old)
        self.worker_restarts[i] += 1
        self.worker_addresses[i] = self._start_worker(i)

    def master_workers(self) -> list[dict]:
        """The master's `GET /api/v1/workers`: id, host, port, state (`live`, `draining`, `lost`), ..."""
        import urllib.request
        with urllib.request.urlopen(f"http://{self.master_http}/api/v1/workers", timeout=10) as reply:
            return json.loads(reply.read())

    def restart_master(self) -> None:
        """kill -9 the master, then start a new one on the same port (same flags) and wait until it listens."""
        old = self.master
        old.proc.kill()
        old.proc.wait(10)
        self.master_restarts += 1
        port = self.master_address.rsplit(":", 1)[1]
        new = self._start_master(port)
        new.wait_for_line("sluice-master listening on ", self.deadline_s)
        self.master_http = _address(new.wait_for_line("sluice-master operations API on ", self.deadline_s))

    def check_alive(self) -> None:
        dead = [(c.name, c.proc.returncode) for c in self.children if c.proc.poll() is not None]
        if dead:
            raise HarnessError(f"Sluice server(s) exited: {dead}\n" + self.stderr_tails())

    def stderr_tails(self, lines: int = 30) -> str:
        return "\n".join(f"--- {c.name} stderr tail (exit code {c.proc.poll()}) ---\n{tail(c.stderr_path, lines)}"
                         for c in self.retired + self.children)

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
               extra: dict[str, str] | None = None, via: str | None = None) -> dict[str, str]:
    """Settings for one session. shuffle is 'builtin' or 'sluice'; via is how the jar is added (default jar_via())."""
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
        })
        if (via or jar_via()) == "jars":
            conf["spark.jars"] = ",".join(sluice_classpath(jar).split(os.pathsep))
        else:
            # Spark 3.5 needs the jar on both class paths (spark.jars alone: executors loop on ClassNotFound).
            classpath = sluice_classpath(jar)
            conf["spark.driver.extraClassPath"] = classpath
            conf["spark.executor.extraClassPath"] = classpath
    elif shuffle != "builtin":
        raise HarnessError(f"unknown shuffle {shuffle!r}")
    conf.update(extra or {})
    return conf


def jar_via() -> str:
    """How the Sluice side adds the client jar: $SLUICE_SPARK_JAR_VIA ("jars": spark.jars; "classpath": the driver's
    and executors' extraClassPath), by default "classpath" on Spark 3.5 (spark.jars does not work there) and "jars" on
    Spark 4 (what docs/spark.md tells 4.x users to do)."""
    via = os.environ.get("SLUICE_SPARK_JAR_VIA")
    if via:
        if via not in ("jars", "classpath"):
            raise HarnessError(f"SLUICE_SPARK_JAR_VIA must be jars or classpath, not {via!r}")
        return via
    try:
        import pyspark
        return "classpath" if pyspark.__version__.startswith("3.") else "jars"
    except ImportError:
        return "classpath"


def add_driver_classpath(conf: dict[str, str], path: Path) -> None:
    """Appends a jar to spark.driver.extraClassPath (set or not)."""
    classpath = conf.get("spark.driver.extraClassPath")
    conf["spark.driver.extraClassPath"] = (classpath + os.pathsep if classpath else "") + str(path)


def sluice_classpath(jar: Path) -> str:
    """The client jar (one jar per Spark line, nothing else), plus $SLUICE_SPARK_EXTRA_CLASSPATH."""
    parts = [str(jar)]
    if os.environ.get("SLUICE_SPARK_EXTRA_CLASSPATH"):
        parts.append(os.environ["SLUICE_SPARK_EXTRA_CLASSPATH"])
    return os.pathsep.join(parts)


def child_env(work_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env["SPARK_WORKER_DIR"] = str(work_dir)  # local-cluster executors' logs: <work_dir>/app-*/N/stderr
    env["PYTHONHASHSEED"] = "0"  # PySpark's portable_hash refuses to run in executors without it
    env["PYSPARK_PYTHON"] = sys.executable  # executors' Python workers: this venv's interpreter, not PATH's python3
    env.pop("SPARK_HOME", None)
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def executor_stderr_tails(*work_dirs: Path, lines: int = 40) -> str:
    files = sorted((f for d in work_dirs for f in Path(d).glob("app-*/*/stderr")), key=lambda f: f.stat().st_mtime)
    if not files:
        return "(no executor logs)"
    return "\n".join(f"--- executor log {f} (tail) ---\n{tail(f, lines)}" for f in files[-4:])


# ----------------------------------------------------------------------------------------------------- batch runner
def run_batch(python: str, mode: str, shuffle: str, jobs: list[str], conf: dict[str, str], timeout_s: float,
              label: str = "", master: str | None = None, log_dirs: tuple = (), env_extra: dict | None = None,
              on_start=None) -> dict:
    """Runs `jobs` in one SparkSession in a subprocess (runner.py) and returns its JSON report:
    {"jobs": {name: {"ok": bool, "result": ..., "error": str, "seconds": float}}, "spark_version": ..., ...}.
    Raises HarnessError (with outputs and executor stderr tails) when the runner does not produce a report.
    `env_extra` is added to the runner's environment; `on_start(proc, work_dir)` is called with the runner's Popen
    (its own process group: the driver JVM and local-cluster executors are in it) right after it starts."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"sluice-spark-work-{label or mode}-"))
    out = work_dir / "report.json"
    spec = {"master": master or MODES[mode], "conf": conf, "jobs": jobs, "out": str(out),
            "scratch": str(work_dir / "scratch")}
    spec_path = work_dir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    log_path = work_dir / "runner.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        env = child_env(work_dir)
        env.update(env_extra or {})
        proc = subprocess.Popen([python, str(HERE / "runner.py"), str(spec_path)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            if on_start is not None:
                on_start(proc, work_dir)
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise HarnessError(f"[{label}] Spark batch ({mode}/{shuffle}) timed out after {timeout_s:.0f}s; "
                               f"jobs={jobs}\n--- runner output tail ---\n{tail(log_path, 60)}\n"
                               f"{executor_stderr_tails(work_dir, *log_dirs)}")
        finally:
            kill_group(proc)  # leftovers (the JVM, executors) of a runner that exited
    elapsed = time.monotonic() - started
    if proc.returncode != 0 or not out.exists():
        raise HarnessError(f"[{label}] Spark batch ({mode}/{shuffle}) exited {proc.returncode} without a report\n"
                           f"--- runner output tail ---\n{tail(log_path, 60)}\n{executor_stderr_tails(work_dir, *log_dirs)}")
    report = json.loads(out.read_text())
    report["seconds"] = elapsed
    report["work_dir"] = str(work_dir)
    failed = [n for n, r in report["jobs"].items() if not r["ok"]]
    if failed:
        report["executor_stderr"] = executor_stderr_tails(work_dir, *log_dirs)
        report["runner_tail"] = tail(log_path, 40)
    elif not os.environ.get("SLUICE_KEEP_SPARK_WORK"):
        shutil.rmtree(work_dir, ignore_errors=True)
    return report


def kill_group(proc: subprocess.Popen) -> None:
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


_kill_group = kill_group  # the benchmark's name for it


# ------------------------------------------------------------------------------------------ standalone Spark cluster
class StandaloneCluster:
    """A Spark standalone master and two 1-core workers on DIFFERENT loopback hosts (127.0.0.1, 127.0.0.2).

    Speculation needs it: Spark never runs a speculative copy on a host that already ran an attempt of the task, and
    local-cluster puts every executor on one host (local mode never speculates at all)."""

    def __init__(self, worker_hosts=("127.0.0.1", "127.0.0.2"), worker_memory="1g", deadline_s: float = 90.0):
        import pyspark
        self.spark_home = Path(pyspark.__file__).resolve().parent
        self.scratch = Path(tempfile.mkdtemp(prefix="sluice-standalone-"))
        self.children: list[_Child] = []
        spark_class = str(self.spark_home / "bin" / "spark-class")
        try:
            master = self._start("spark-master", "127.0.0.1",
                                 [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                  "--port", "0", "--webui-port", "0"])
            line = master.wait_for_line_containing("Starting Spark master at spark://", deadline_s)
            self.master_url = "spark://" + line.split("spark://", 1)[1].split()[0]
            for i, host in enumerate(worker_hosts):
                w = self._start(f"spark-worker-{i}", host,
                                [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", host, "--port", "0",
                                 "--webui-port", "0", "--cores", "1", "--memory", worker_memory,
                                 "--work-dir", str(self.scratch / f"work-{i}"), self.master_url])
                w.wait_for_line_containing("Successfully registered with master", deadline_s)
        except BaseException:
            self.stop()
            raise

    def _start(self, name, host, argv):
        env = dict(os.environ, SPARK_HOME=str(self.spark_home), SPARK_LOCAL_IP=host, PYTHONHASHSEED="0",
                   SPARK_LOG_DIR=str(self.scratch), SPARK_NO_DAEMONIZE="1")
        env["PYSPARK_PYTHON"] = sys.executable
        child = _Child(name, argv, self.scratch, env=env, merge_stderr=True)
        self.children.append(child)
        return child

    @property
    def log_dirs(self) -> tuple:
        return tuple(self.scratch / f"work-{i}" for i in range(len(self.children) - 1))

    def stop(self):
        for c in reversed(self.children):
            c.stop()
        if not os.environ.get("SLUICE_KEEP_SPARK_WORK"):
            shutil.rmtree(self.scratch, ignore_errors=True)
