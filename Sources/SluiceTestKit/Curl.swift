import Foundation
import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// What curl reported for one transfer.
public struct CurlResult: Sendable {
    public var status: Int
    public var version: String
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Runs curl (found on PATH; its absence fails the test) against `http://HOST:port/path` (`host` an IPv4 or
/// IPv6 literal, 127.0.0.1 by default).
public func curl(_ options: [String], host: String = "127.0.0.1", port: Int, path: String) throws -> CurlResult {
    let directory = try TempDirectory()
    defer { directory.remove() }
    let bodyPath = directory.file("body")
    let lines = try curlLines(
        ["-g", "-o", bodyPath] + options + ["http://\(EndpointText.format(host: host, port: port))\(path)"],
        format: "%{http_code} %{http_version}")
    let fields = lines.first?.split(separator: " ") ?? []
    guard lines.count == 1, fields.count == 2, let status = Int(fields[0]) else {
        throw TestKitError("curl wrote \(lines)")
    }
    let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyPath))).map { [UInt8]($0) } ?? []
    return CurlResult(status: status, version: String(fields[1]), body: body)
}

/// Runs curl with `arguments` and `-w format`; returns the lines it wrote to standard output. Throws when curl
/// is not on PATH (the tests need it: they fail rather than skip) or does not exit 0 within 30 s.
public func curlLines(_ arguments: [String], format: String) throws -> [String] {
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let candidates: [String] = searchPath.split(separator: ":").map { "\($0)/curl" }
    guard let executable = candidates.first(where: { access($0, X_OK) == 0 }) else {
        throw TestKitError("curl is not on PATH (\(searchPath)); these tests need it (Debian: apt-get install curl)")
    }
    let directory = try TempDirectory()
    defer { directory.remove() }
    let all = ["-s", "-S", "--max-time", "20", "-w", format] + arguments
    let child = try ChildProcess(executable: executable, arguments: all, outputIn: directory.path)
    let exit = child.waitForExit(timeoutMs: 30_000)
    guard exit == .exited(0) else {
        child.kill()
        throw TestKitError("curl \(all) ended with \(exit): \(child.standardError)")
    }
    let written = (try? String(contentsOfFile: child.outputPath, encoding: .utf8)) ?? ""
    return written.split(separator: "\n").map(String.init)
}
