import KubeAPI
import Logging
import Synchronization

/// What a reflector reports: the whole state after a (re)list, then changes.
public enum ReflectorEvent<T: APIObject>: Sendable {
    /// The complete current state: replace what you knew.
    case replaced([T])
    case added(T)
    case modified(T)
    case deleted(T)
}

/// List then watch, forever: client-go's reflector. Re-watches from the last version when a watch ends, and
/// lists again when that version has expired or a request fails (after a pause that grows, up to 5 s).
public struct Reflector<T: APIObject>: Sendable {
    let client: any ClusterClient
    let namespace: String?
    let options: ListOptions
    let logger: Logger

    public init(
        client: any ClusterClient, namespace: String? = nil, options: ListOptions = .all,
        logger: Logger = Logger(label: "switchboard.reflector")
    ) {
        self.client = client
        self.namespace = namespace
        self.options = options
        self.logger = logger
    }

    /// Runs until the task is cancelled, calling `handle` for each event in order.
    public func run(_ handle: @Sendable (ReflectorEvent<T>) async -> Void) async {
        var pause: Duration = .milliseconds(100)
        while !Task.isCancelled {
            do {
                let (items, listVersion) = try await client.list(T.self, namespace: namespace, options: options)
                await handle(.replaced(items))
                pause = .milliseconds(100)
                let version = Mutex(listVersion)
                while !Task.isCancelled {
                    try await client.watch(T.self, namespace: namespace, options: options, from: version.withLock { $0 }) { event in
                        if let status = event.status { throw status }
                        guard let object = event.object else { return }
                        if let rv = object.metadata.resourceVersion, !rv.isEmpty { version.withLock { $0 = rv } }
                        switch event.type {
                        case .added: await handle(.added(object))
                        case .modified: await handle(.modified(object))
                        case .deleted: await handle(.deleted(object))
                        default: break
                        }
                    }
                }
            } catch let status as Status where status.isExpired {
                continue
            } catch {
                if Task.isCancelled { return }
                // A blip is retried quietly; one that lasts (a second of back-off) is worth a warning.
                if pause >= .seconds(1) {
                    logger.warning("\(T.kind) reflector: \(error); listing again in \(pause)")
                } else {
                    logger.debug("\(T.kind) reflector: \(error); listing again in \(pause)")
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }
}
