"""Runs a batch of jobs from jobs.py in ONE SparkSession and writes a JSON report. Invoked by harness.run_batch in a
subprocess (one SparkContext per Python process), always under a timeout.

    python runner.py SPEC.json     # {"master", "conf", "jobs": [names], "out": path, "scratch": dir}

A job name is a function of jobs.py, or MODULE:FUNCTION for a function of another module in spark-tests (shipped to
executors too).
"""
import json
import os
import sys
import time
import traceback


def summarise_error(text: str) -> str:
    """Python tracebacks from executors (inside the Java stack) first, then the head and tail of the whole error."""
    parts = []
    at = text.find("PythonException: ")
    if at >= 0:
        end = text.find("\n\tat ", at)
        parts.append("executor-side Python error:\n" + text[at:end if end > 0 else at + 4000][:4000])
    java_cause = [l for l in text.splitlines() if l.startswith("Caused by:")]
    if java_cause:
        parts.append("Java causes:\n" + "\n".join(java_cause[:8]))
    parts.append(text if len(text) < 6000 else text[:2500] + "\n...\n" + text[-3000:])
    return "\n\n".join(parts)


def main() -> int:
    spec = json.load(open(sys.argv[1]))
    os.makedirs(spec["scratch"], exist_ok=True)
    import jobs  # noqa: E402  (spark-tests is on PYTHONPATH)
    from pyspark.sql import SparkSession

    t0 = time.monotonic()
    builder = SparkSession.builder.master(spec["master"]).appName("sluice-spark-tests")
    for k, v in spec["conf"].items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    # Executors unpickle references to jobs.py's functions: ship it (a standalone cluster's workers lack our PYTHONPATH).
    spark.sparkContext.addPyFile(jobs.__file__)
    import importlib
    modules = {"jobs": jobs}
    for name in spec["jobs"]:
        module_name = name.split(":", 1)[0] if ":" in name else "jobs"
        if module_name not in modules:
            modules[module_name] = importlib.import_module(module_name)
            spark.sparkContext.addPyFile(modules[module_name].__file__)
    report = {
        "spark_version": spark.version,
        "master": spec["master"],
        "shuffle_manager": jobs.shuffle_manager_class(spark),
        "startup_seconds": round(time.monotonic() - t0, 2),
        "jobs": {},
    }
    jobs.SCRATCH = spec["scratch"]
    for name in spec["jobs"]:
        started = time.monotonic()
        try:
            module_name, _, function = name.rpartition(":")
            result = getattr(modules[module_name or "jobs"], function)(spark)
            entry = {"ok": True, "result": json.loads(json.dumps(result))}
        except Exception:  # noqa: BLE001 - the report carries it to pytest
            entry = {"ok": False, "error": summarise_error(traceback.format_exc())}
        entry["seconds"] = round(time.monotonic() - started, 2)
        report["jobs"][name] = entry
        print(f"[runner] {name}: {'ok' if entry['ok'] else 'FAILED'} in {entry['seconds']}s", flush=True)
        # Write after every job so a later hang still leaves the earlier results for the failure message.
        with open(spec["out"] + ".partial", "w") as f:
            json.dump(report, f)
    t1 = time.monotonic()
    spark.stop()
    report["stop_seconds"] = round(time.monotonic() - t1, 2)
    with open(spec["out"], "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
