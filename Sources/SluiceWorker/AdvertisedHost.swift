import SluiceConfig
import SluiceSystem

/// A worker that would advertise an address nobody else can reach: it refuses to start, saying which key to set.
public struct AdvertisedHostError: Error, Sendable, CustomStringConvertible {
    /// The whole explanation, naming `worker.advertisedHost`, its environment variable and its flag.
    public let message: String

    /// The message.
    public var description: String { message }
}

/// Choosing, once at start, the host a worker gives the master for clients and peers (`worker.advertisedHost`).
///
/// - A configured value is used as given, unless it is a wildcard (`0.0.0.0`, `::`), or loopback (`127.x`, `::1`,
///   `localhost`) while the master is not: then the worker refuses to start.
/// - Empty (automatic): `worker.host` when that is a specific address (a loopback one only with a loopback master);
///   else `127.0.0.1` when the master is on loopback; else the local address the kernel uses to reach the master
///   (the interface that routes there: a pod's IP), which must be neither loopback nor a wildcard, and must be
///   IPv4 when `worker.host` is an IPv4 wildcard (`0.0.0.0` takes no IPv6 connections).
public enum AdvertisedHost {
    /// Why a host was chosen (logged at start).
    public enum Reason: String, Sendable, Equatable {
        /// `worker.advertisedHost` was set.
        case configured
        /// `worker.host`, a specific address.
        case listenAddress
        /// The master is on loopback, so is everything.
        case loopbackMaster
        /// The local address of the route to the master.
        case routeToMaster
    }

    /// The host chosen and why.
    public struct Choice: Sendable, Equatable {
        /// The host to advertise: a name or an IPv4/IPv6 literal, without brackets.
        public let host: String
        /// Which rule chose it.
        public let reason: Reason
    }

    /// How names are resolved and routes found; the real one uses `getaddrinfo` and a connected UDP socket.
    struct Network {
        var resolve: (String) throws -> [SocketAddress]
        var route: (SocketAddress) throws -> SocketAddress

        static var system: Network {
            Network(
                resolve: { try SocketAddress.resolve(host: $0, port: 0, passive: false) },
                route: { try SocketAddress.route(toward: $0) })
        }
    }

    /// Chooses the advertised host for `config`; throws when it would be unreachable from other machines.
    public static func choose(for config: WorkerConfig) throws(AdvertisedHostError) -> Choice {
        try choose(for: config, network: .system)
    }

    static func choose(for config: WorkerConfig, network: Network) throws(AdvertisedHostError) -> Choice {
        let master = MasterTarget(config: config, network: network)
        if let configured = config.advertisedHost {
            let host =
                configured.hasPrefix("[") && configured.hasSuffix("]")
                ? String(configured.dropFirst().dropLast()) : configured
            let literal = SocketAddress.literal(host)
            if literal?.isUnspecified == true {
                throw refusal("\(key) is \(host), a wildcard address that nobody can connect to.")
            }
            let isLoopback = literal?.isLoopback ?? (host.lowercased() == "localhost")
            if isLoopback, try !master.isLoopback() {
                throw refusal(
                    "\(key) is \(host), a loopback address, but the master \(config.masterAddress) is not on "
                        + "loopback: clients and other workers could not reach this worker there.")
            }
            return Choice(host: host, reason: .configured)
        }
        let listen = SocketAddress.literal(config.host)
        if let listen, !listen.isUnspecified {
            if listen.isLoopback, try !master.isLoopback() {
                throw refusal(
                    "\(WorkerKeys.host.name) is \(config.host), a loopback address, but the master \(config.masterAddress) is "
                        + "not on loopback: clients and other workers could not reach this worker.")
            }
            return Choice(host: config.host, reason: .listenAddress)
        }
        if try master.isLoopback() { return Choice(host: "127.0.0.1", reason: .loopbackMaster) }
        let local = try master.localAddress()
        if local.isLoopback || local.isUnspecified {
            throw refusal(
                "the route to the master \(config.masterAddress) leaves from \(local.host), which other machines "
                    + "cannot reach, so no address can be advertised automatically.")
        }
        if local.host.contains(":"), let listen, listen.family != local.family {
            throw refusal(
                "the master \(config.masterAddress) is reached over IPv6 (from \(local.host)) but \(WorkerKeys.host.name) "
                    + "\(config.host) takes IPv4 connections only: set worker.host to :: (IPv4 and IPv6), or set "
                    + "\(key) to an IPv4 address of this machine.")
        }
        return Choice(host: local.host, reason: .routeToMaster)
    }

    private static let key = WorkerKeys.advertisedHost.name

    /// The refusal, with what to do about it.
    private static func refusal(_ what: String) -> AdvertisedHostError {
        AdvertisedHostError(
            message: "cannot choose the address to advertise: " + what + " Set \(key) (environment variable "
                + "\(WorkerKeys.advertisedHost.environmentVariable), flag \(WorkerKeys.advertisedHost.flagName)) "
                + "to an address or name of this worker that clients and other workers can reach (in Kubernetes, "
                + "the pod IP from the downward API or the pod's DNS name).")
    }

    /// The master's addresses, resolved once when first needed.
    private final class MasterTarget {
        let config: WorkerConfig
        let network: Network
        private var resolved: [SocketAddress]?

        init(config: WorkerConfig, network: Network) {
            self.config = config
            self.network = network
        }

        func addresses() throws(AdvertisedHostError) -> [SocketAddress] {
            if let resolved { return resolved }
            let host = config.masterAddress.host
            do {
                let found = try SocketAddress.literal(host).map { [$0] } ?? network.resolve(host)
                resolved = found
                return found
            } catch {
                throw refusal("the master's host \(host) does not resolve (\(error)).")
            }
        }

        /// True when every address of the master is a loopback address.
        func isLoopback() throws(AdvertisedHostError) -> Bool {
            try addresses().allSatisfy(\.isLoopback)
        }

        /// The local address of the route to the first of the master's addresses that has one.
        func localAddress() throws(AdvertisedHostError) -> SocketAddress {
            var failure = "no address"
            for address in try addresses() {
                do {
                    return try network.route(address)
                } catch {
                    failure = "\(error)"
                }
            }
            throw refusal("no route to the master \(config.masterAddress) (\(failure)).")
        }
    }
}
