#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import APIServer
import ClusterStore
import Controllers
import Hummingbird
import IPAM
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `switchboard up`: the store, the API server on TCP and a Unix socket, the controllers and the scheduler, in one
/// process that shuts down cleanly on SIGINT and SIGTERM.
public struct ControlPlane: Sendable {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var listenHost: String
        public var listenPort: Int
        public var unixSocket: String
        public var serviceCIDRs: [CIDR]
        public var clusterDomain: String
        /// Recent events kept for watches that resume from a resourceVersion.
        public var watchWindow: Int

        public init(
            dataDirectory: String, listenHost: String, listenPort: Int, unixSocket: String, serviceCIDRs: [CIDR],
            clusterDomain: String, watchWindow: Int = 10_000
        ) {
            self.dataDirectory = dataDirectory
            self.listenHost = listenHost
            self.listenPort = listenPort
            self.unixSocket = unixSocket
            self.serviceCIDRs = serviceCIDRs
            self.clusterDomain = clusterDomain
            self.watchWindow = watchWindow
        }

        public var kubeconfigPath: String { dataDirectory + "/kubeconfig" }
        public var databasePath: String { dataDirectory + "/store.db" }
    }

    public let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "switchboard")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until SIGINT or SIGTERM. `onReady` gets the API URL once both listeners are up and the kubeconfig
    /// is written.
    public func run(onReady: @escaping @Sendable (_ url: String) -> Void = { _ in }) async throws {
        let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
        defer { lock.release() }
        let store = try ObjectStore(
            persistence: SQLitePersistence(path: configuration.databasePath),
            configuration: ObjectStore.Configuration(eventWindow: configuration.watchWindow), decode: APIServer.decodeStoredObject,
            logger: logger)
        let server = try APIServer(store: store, serviceCIDRs: configuration.serviceCIDRs, logger: logger)
        try await server.bootstrap(apiServerPort: Int32(configuration.listenPort == 0 ? 6443 : configuration.listenPort))

        removeStaleSocket(configuration.unixSocket)
        let ready = ReadyLatch(needed: 2)
        let configuration = self.configuration
        let logger = self.logger
        let announce: @Sendable (Int?) -> Void = { port in
            guard let url = ready.arrive(port: port) else { return }
            do {
                try Kubeconfig(server: url).write(to: configuration.kubeconfigPath)
            } catch {
                logger.error("cannot write \(configuration.kubeconfigPath): \(error)")
            }
            onReady(url)
        }
        let tcp = HTTPServer.application(
            server, address: .hostname(configuration.listenHost, port: configuration.listenPort), logger: logger
        ) { channel in
            announce(channel.localAddress?.port ?? configuration.listenPort)
        }
        let unix = HTTPServer.application(server, address: .unixDomainSocket(path: configuration.unixSocket), logger: logger) { _ in
            announce(nil)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: tcp), .init(service: unix),
                    .init(service: ControllersService(server: server)),
                    .init(service: BookmarkService(store: store)),
                    // Last in, first out: closing the store's watches first lets the HTTP servers drain.
                    .init(service: StoreService(store: store)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        removeStaleSocket(configuration.unixSocket)
    }

    private func removeStaleSocket(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Waits for both listeners; builds the URL from the TCP one.
final class ReadyLatch: Sendable {
    private struct State {
        var left: Int
        var port: Int?
    }

    private let state: Mutex<State>

    init(needed: Int) { state = Mutex(State(left: needed)) }

    /// The URL once every listener arrived (exactly once), else nil.
    func arrive(port: Int?) -> String? {
        state.withLock { s -> String? in
            if let port { s.port = port }
            s.left -= 1
            guard s.left == 0, let port = s.port else { return nil }
            return "http://127.0.0.1:\(port)"
        }
    }
}

/// Runs the controllers (EndpointSlice and Endpoints, namespace) and the scheduler until shutdown.
struct ControllersService: Service {
    let server: APIServer

    func run() async throws {
        let client = LocalClusterClient(server: server)
        let endpoints = EndpointsControllerRunner(client: client)
        let namespaces = NamespaceControllerRunner(client: client)
        let scheduler = SchedulerRunner(client: client)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await endpoints.run() }
                group.addTask { await namespaces.run() }
                group.addTask { await scheduler.run() }
            }
        }
    }
}

/// Sends every watch a bookmark each minute, for clients that asked for them.
struct BookmarkService: Service {
    let store: ObjectStore

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(60))
                store.broadcastBookmarks()
            }
        }
    }
}

/// Holds the store open; on shutdown, ends every watch and stops the disk thread.
struct StoreService: Service {
    let store: ObjectStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.shutdown()
    }
}
