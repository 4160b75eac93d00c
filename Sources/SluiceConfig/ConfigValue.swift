import SluiceCore

/// The declared type of a key, including its allowed range or set of values.
public indirect enum ConfigValueType: Sendable, Equatable {
    /// An integer in `min...max`.
    case int(min: Int, max: Int)
    /// A byte count in `min...max` bytes; text may carry a binary suffix (`64k`, `8MiB`, `2g`).
    case bytes(min: Int, max: Int)
    /// A duration in `min...max` milliseconds; text may carry a suffix (`500ms`, `30s`, `5m`, `1h`).
    case milliseconds(min: Int, max: Int)
    /// A finite floating-point number in `min...max`.
    case double(min: Double, max: Double)
    /// `true` or `false`.
    case bool
    /// Free text; `allowEmpty` says whether the empty string is valid. Whitespace is never valid.
    case string(allowEmpty: Bool)
    /// One of a fixed set of lower-case names (matched case-insensitively).
    case choice([String])
    /// `host:port` (IPv6 hosts in brackets: `[::1]:9097`), port in 1...65535.
    case hostPort
    /// A list of `element` values, at most `maxCount`: separated by commas, or by semicolons when the elements
    /// are records (`kind=nvme dirs=/mnt/a,/mnt/b; kind=ebs dirs=/data`).
    case list(ConfigValueType, maxCount: Int)
    /// A record: whitespace-separated `field=value` pairs of the declared fields.
    case record([ConfigRecordField])

    /// The type's name in documentation and help.
    public var name: String {
        switch self {
        case .int: "int"
        case .bytes: "bytes"
        case .milliseconds: "duration"
        case .double: "double"
        case .bool: "bool"
        case .string: "string"
        case .choice: "enum"
        case .hostPort: "host:port"
        case .list(let element, _): "list of \(element.name)"
        case .record: "record"
        }
    }
}

/// A parsed, validated value.
public enum ConfigValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case bytes(Int)
    case milliseconds(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case hostPort(HostPort)
    case list([ConfigValue])
    case record(ConfigRecord)

    /// The value in canonical text form (bytes and durations with the largest exact suffix).
    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .bytes(let v): ConfigUnits.formatBytes(v)
        case .milliseconds(let v): ConfigUnits.formatMilliseconds(v)
        case .double(let v): String(v)
        case .bool(let v): String(v)
        case .string(let v): v
        case .hostPort(let v): v.description
        case .list(let items):
            items.map(\.description).joined(
                separator: items.contains { if case .record = $0 { true } else { false } }
                    ? "; " : ",")
        case .record(let v): v.description
        }
    }
}

/// A host and a TCP port, as given in `host:port` configuration values.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates a host and port.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around IPv6 addresses.
    public var description: String { EndpointText.format(host: host, port: port) }

    /// Parses `host:port` or `[ipv6]:port`; nil when malformed or the port is outside 1...65535.
    public init?(parsing text: String) {
        guard let (host, port) = EndpointText.parse(text), !host.contains(where: \.isWhitespace), port >= 1 else {
            return nil
        }
        self.init(host: host, port: port)
    }
}

/// Log levels, spelled as swift-log's `Logger.Level` raw values so executables can convert.
public enum LogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
