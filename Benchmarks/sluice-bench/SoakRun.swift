import Foundation
import Glibc
import SluiceClient
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization

/// The soak's moving parts: a child-process cluster, `jobs` job threads, and this (the calling) thread, which
/// kills and restarts workers, reads the servers every `sampleSeconds` and heartbeats the application as a
/// driver would. Only this thread touches the cluster.
struct SoakRun {
    let settings: SoakSettings
    let directory: String

    /// What the job threads share with the controller.
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let runningJobs = Atomic<Int>(0)
        let nextJob = Atomic<UInt32>(0)
        let ledger = SoakLedger()
    }

    func run() throws -> SoakReport {
        let cluster = try BenchClusters.startChildProcesses(
            workerCount: settings.workers, directory: directory, memoryBudgetBytes: settings.memoryBudgetBytes)
        defer { cluster.stopForBench() }
        let startNs = Monotonic.nowNs()
        func now() -> Double { Double(Monotonic.nowNs() - startNs) / 1e9 }
        let applicationId = "sluice-soak-\(getpid())"
        let driver = MasterClient(endpoint: cluster.masterEndpoint, identity: applicationId, requestTimeoutMs: 10_000)
        defer { driver.close() }
        _ = try driver.registerApplication(applicationId)
        var report = SoakReport(settings: settings, startedAt: Date())
        var chaos = SoakChaos(settings: settings)
        var started = [Double](repeating: 0, count: settings.workers)
        var samples: [String: [SoakReading]] = [:]
        let storage = (0..<settings.workers).map { SoakProbe.resolved(cluster.storageDirectory(worker: $0)) }
        func readAll() -> [String: SoakReading] {
            var readings: [String: SoakReading] = [:]
            let at = now()
            readings["master"] = SoakProbe.read(
                pid: cluster.master.pid, storageDirectory: nil, atSeconds: at, ageSeconds: at)
            for index in 0..<settings.workers where chaos.down?.worker != index {
                readings["worker-\(index)"] = SoakProbe.read(
                    pid: cluster.workers[index].pid, storageDirectory: storage[index],
                    atSeconds: at, ageSeconds: at - started[index])
            }
            return readings
        }
        report.idleStart = readAll()

        let shared = Shared()
        startJobs(shared, applicationId: applicationId, masterEndpoint: cluster.masterEndpoint)
        var nextSample = Double(settings.sampleSeconds)
        var nextHeartbeat = 5.0
        say("soak: seed \(settings.seed), \(settings.loadSeconds / 60) minutes, storage \(cluster.scratch.path)")
        while true {
            let at = now()
            if at >= nextHeartbeat {
                try? driver.applicationHeartbeat(applicationId)
                nextHeartbeat += 5
            }
            if at >= settings.loadSeconds { shared.stop.store(true, ordering: .sequentiallyConsistent) }
            let loadOver = shared.stop.load(ordering: .sequentiallyConsistent)
            if let event = chaos.step(at: at, loadOver: loadOver, cluster: cluster) {
                if event.kind == .restart { started[event.worker] = now() }
                report.events.append(event)
                say(String(format: "[%6.1f min] ", at / 60) + event.description)
            }
            if at >= nextSample {
                for (process, reading) in readAll() { samples[process, default: []].append(reading) }
                say(report.progressLine(at: at, totals: shared.ledger.snapshot, samples: samples))
                nextSample += Double(settings.sampleSeconds)
            }
            if loadOver, chaos.down == nil, shared.runningJobs.load(ordering: .sequentiallyConsistent) == 0 { break }
            usleep(100_000)
        }
        // Idle: every shuffle was unregistered; workers delete their files on their next heartbeat.
        let cleaned = waitUntil(timeoutMs: 60_000, pollIntervalMs: 500) {
            (0..<settings.workers).allSatisfy {
                SoakProbe.storageFiles(storage[$0]).partition == 0
            }
        }
        if !cleaned { say("soak: partition files still present 60 s after the last job") }
        usleep(2_000_000)  // connections of the last jobs' clients close
        report.idleEnd = readAll()
        for index in 0..<settings.workers {
            report.idleEnd["worker-\(index)"]?.budgetUsedBytes = SoakProbe.budgetUsedBytes(
                workerOutput: cluster.workers[index].outputPath)
        }
        try? driver.unregisterApplication(applicationId)
        report.finish(totals: shared.ledger.snapshot, samples: samples, elapsedSeconds: now())
        if !report.passed { keepLogs(cluster) }
        return report
    }

    /// Starts the job threads: each runs jobs one after another until `stop`, a watchdog on each.
    private func startJobs(_ shared: Shared, applicationId: String, masterEndpoint: String) {
        let settings = settings
        shared.runningJobs.store(settings.jobs, ordering: .sequentiallyConsistent)
        let bodies: [@Sendable () throws -> Void] = (0..<settings.jobs).map { thread in
            {
                defer { shared.runningJobs.subtract(1, ordering: .sequentiallyConsistent) }
                usleep(UInt32(thread) * 2_000_000)  // staggered, so jobs do not move in step
                while !shared.stop.load(ordering: .sequentiallyConsistent) {
                    let number = shared.nextJob.add(1, ordering: .sequentiallyConsistent).newValue
                    let job = SoakJob(
                        number: number, seed: settings.seed, applicationId: applicationId,
                        masterEndpoint: masterEndpoint, mapThreads: settings.mapThreads,
                        readThreads: settings.readThreads)
                    let watchdog = Watchdog(limitSeconds: settings.jobTimeoutSeconds, what: job.description)
                    job.run(into: shared.ledger)
                    watchdog.cancel()
                }
            }
        }
        Thread.detachNewThread { try? Threads.runAll(bodies) }
    }

    /// Copies the servers' logs out of the storage directory (removed at the end) after a failed run.
    private func keepLogs(_ cluster: ProcessCluster) {
        let target = "\(directory)/sluice-soak-logs-\(getpid())"
        try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cluster.scratch.path)) ?? []
        for name in names where name.hasSuffix(".log") {
            try? FileManager.default.copyItem(atPath: cluster.scratch.file(name), toPath: "\(target)/\(name)")
        }
        say("soak: server logs kept in \(target)")
    }
}
