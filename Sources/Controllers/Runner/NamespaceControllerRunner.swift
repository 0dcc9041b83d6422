import KubeAPI
import KubeClient
import Logging
import Synchronization

/// The namespace controller: empties a terminating namespace, then removes its `kubernetes` finalizer (the
/// `finalize` subresource) so that the API server deletes it.
///
/// Like upstream it waits a grace period (5 s) after it first sees the deletion before it deletes anything,
/// so that `kubectl delete -f` of a manifest that also names the namespace's objects deletes each of them
/// itself. Objects that do not go at once (finalizers, pods a node is still stopping) are retried with a
/// growing pause until the namespace is empty.
public final class NamespaceControllerRunner: Sendable {
    struct Pending {
        var due: ContinuousClock.Instant
        var attempts = 0
    }

    private let client: any ClusterClient
    private let gracePeriod: Duration
    private let pending = Mutex<[String: Pending]>([:])
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let logger: Logger

    /// The finalizer this controller owns.
    public static let finalizer = "kubernetes"

    public init(client: any ClusterClient, gracePeriod: Duration = .seconds(5), logger: Logger = Logger(label: "switchboard.namespaces")) {
        self.client = client
        self.gracePeriod = gracePeriod
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await Reflector<Namespace>(client: self.client).run { self.namespaceEvent($0) } }
            group.addTask { await self.work() }
            await group.next()
            group.cancelAll()
        }
    }

    private func namespaceEvent(_ event: ReflectorEvent<Namespace>) {
        let now = ContinuousClock.now
        pending.withLock { pending in
            func consider(_ namespace: Namespace) {
                let name = namespace.name
                if namespace.metadata.deletionTimestamp != nil, (namespace.spec.finalizers ?? []).contains(Self.finalizer) {
                    if pending[name] == nil { pending[name] = Pending(due: now + gracePeriod) }
                } else {
                    pending[name] = nil
                }
            }
            switch event {
            case .replaced(let all):
                let names = Set(all.map(\.name))
                for name in pending.keys where !names.contains(name) { pending[name] = nil }
                all.forEach(consider)
            case .added(let namespace), .modified(let namespace): consider(namespace)
            case .deleted(let namespace): pending[namespace.name] = nil
            }
        }
        wakeContinuation.yield()
    }

    private func work() async {
        var wakes = wake.makeAsyncIterator()
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (due, next) = pending.withLock { pending in
                (pending.filter { $0.value.due <= now }.map(\.key).sorted(), pending.values.map(\.due).min())
            }
            for name in due {
                let finished: Bool
                do {
                    finished = try await empty(name)
                } catch {
                    logger.debug("namespace \(name): \(error)")
                    finished = false
                }
                pending.withLock { pending in
                    guard var entry = pending[name] else { return }
                    if finished {
                        pending[name] = nil
                    } else {
                        entry.attempts += 1
                        entry.due = ContinuousClock.now + .milliseconds(min(10_000, 250 << min(entry.attempts, 6)))
                        pending[name] = entry
                    }
                }
            }
            if !due.isEmpty { continue }
            if let next {
                // A new deletion is due no sooner than the grace period, so a bounded sleep cannot miss one
                // by more than a second.
                try? await Task.sleep(for: min(next - ContinuousClock.now, .seconds(1)))
            } else if await wakes.next() == nil {
                return
            }
        }
    }

    /// Deletes what is in the namespace; once nothing is left, finalizes it. True when finalized.
    private func empty(_ namespace: String) async throws -> Bool {
        var remaining = 0
        remaining += try await purge(Pod.self, namespace)
        remaining += try await purge(Service.self, namespace)
        remaining += try await purge(EndpointSlice.self, namespace)
        remaining += try await purge(Endpoints.self, namespace)
        remaining += try await purge(Event.self, namespace)
        if remaining > 0 {
            logger.debug("namespace \(namespace): \(remaining) objects still terminating")
            return false
        }
        var current = try await client.get(Namespace.self, namespace: nil, name: namespace)
        current.spec.finalizers = (current.spec.finalizers ?? []).filter { $0 != Self.finalizer }
        _ = try await client.update(current, subresource: "finalize")
        logger.debug("namespace \(namespace) finalized")
        return true
    }

    /// Deletes every object of a kind in the namespace; returns how many are still there (terminating).
    private func purge<T: APIObject>(_ type: T.Type, _ namespace: String) async throws -> Int {
        let (items, _) = try await client.list(type, namespace: namespace)
        if items.isEmpty { return 0 }
        try await client.deleteCollection(type, namespace: namespace, options: .all)
        return try await client.list(type, namespace: namespace).items.count
    }
}
