import KubeAPI
import KubeClient
import Logging
import Synchronization

/// The scheduler, running: informers on Pods and Nodes feed a `SchedulerCache`; whenever a pod waits for a
/// node and a node accepts pods, a worker binds it (`pods/NAME/binding`) to the node `NodeChoice` picks and
/// records a `Scheduled` event, as kube-scheduler does.
///
/// Pods whose `spec.nodeName` is set are never touched. A pod that no node takes waits; the next node event
/// (a node turning Ready) wakes the worker.
public final class SchedulerRunner: Sendable {
    private let client: any ClusterClient
    private let cache = Mutex(SchedulerCache())
    private let synced = Mutex<Set<String>>([])
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let logger: Logger

    /// The component name events carry (`source.component`, `reportingController`).
    public static let component = NodeChoice.schedulerName

    /// Bindings per pass: a large backlog is worked through in slices so that node changes are seen between them.
    static let batch = 256

    public init(client: any ClusterClient, logger: Logger = Logger(label: "switchboard.scheduler")) {
        self.client = client
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await Reflector<Pod>(client: self.client).run { self.podEvent($0) } }
            group.addTask { await Reflector<Node>(client: self.client).run { self.nodeEvent($0) } }
            group.addTask { await self.work() }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Informer events

    func podEvent(_ event: ReflectorEvent<Pod>) {
        cache.withLock { c in
            switch event {
            case .replaced(let all): c.replacePods(all)
            case .added(let pod), .modified(let pod): c.updatePod(pod)
            case .deleted(let pod): c.removePod(pod)
            }
        }
        if case .replaced = event { synced.withLock { _ = $0.insert("pods") } }
        wakeContinuation.yield()
    }

    func nodeEvent(_ event: ReflectorEvent<Node>) {
        cache.withLock { c in
            switch event {
            case .replaced(let all): c.replaceNodes(all)
            case .added(let node), .modified(let node): c.updateNode(node)
            case .deleted(let node): c.removeNode(node)
            }
        }
        if case .replaced = event { synced.withLock { _ = $0.insert("nodes") } }
        wakeContinuation.yield()
    }

    // MARK: The worker

    private func work() async {
        var failures = 0
        for await _ in wake {
            while !Task.isCancelled {
                guard synced.withLock({ $0.isSuperset(of: ["pods", "nodes"]) }) else { break }
                let plan = cache.withLock { $0.plan(limit: Self.batch) }
                if plan.isEmpty { break }
                var failed = false
                for binding in plan where !Task.isCancelled {
                    if await !bind(binding.key, uid: binding.uid, node: binding.node) { failed = true }
                }
                failures = failed ? failures + 1 : 0
                if failed {
                    // The pods stay pending; a pause that grows (to 5 s) keeps a failing API from being hammered.
                    try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
                }
            }
        }
    }

    /// Binds one pod; false when it should be tried again.
    private func bind(_ key: SchedulerCache.PodKey, uid: String, node: String) async -> Bool {
        do {
            try await client.bind(namespace: key.namespace, name: key.name, nodeName: node)
        } catch let status as Status where status.isNotFound {
            // Deleted meanwhile; the informer brings the deletion.
            forget(key)
            return true
        } catch let status as Status where status.code == 409 {
            // Someone else bound it (or the name now holds another pod): take the pod as it is stored.
            await refresh(key)
            return true
        } catch {
            logger.debug("binding \(key.namespace)/\(key.name) to \(node): \(error); trying again")
            return false
        }
        cache.withLock { $0.assume(key, uid: uid, node: node) }
        logger.debug("bound \(key.namespace)/\(key.name) to \(node)")
        await recordScheduled(key, uid: uid, node: node)
        return true
    }

    private func forget(_ key: SchedulerCache.PodKey) {
        cache.withLock { c in if let pod = c.pods[key] { c.removePod(pod) } }
    }

    private func refresh(_ key: SchedulerCache.PodKey) async {
        do {
            let pod = try await client.get(Pod.self, namespace: key.namespace, name: key.name)
            cache.withLock { $0.updatePod(pod) }
        } catch let status as Status where status.isNotFound {
            forget(key)
        } catch {
            logger.debug("reading \(key.namespace)/\(key.name): \(error)")
        }
    }

    /// The `Scheduled` event `kubectl describe pod` shows. Best effort: a binding stands without it.
    private func recordScheduled(_ key: SchedulerCache.PodKey, uid: String, node: String) async {
        let now = Time.now()
        var event = Event(
            metadata: ObjectMeta(name: SchedulerEvents.name(pod: key.name, at: now), namespace: key.namespace),
            involvedObject: ObjectReference(kind: "Pod", namespace: key.namespace, name: key.name, uid: uid, apiVersion: "v1"),
            reason: "Scheduled", message: "Successfully assigned \(key.namespace)/\(key.name) to \(node)", type: "Normal",
            source: EventSource(component: Self.component), firstTimestamp: now.truncatedToSeconds,
            lastTimestamp: now.truncatedToSeconds, count: 1)
        event.action = "Binding"
        event.reportingComponent = Self.component
        event.reportingInstance = Self.component
        do {
            _ = try await client.create(event)
        } catch {
            logger.debug("event for \(key.namespace)/\(key.name): \(error)")
        }
    }
}

/// Event names as client-go's recorder makes them: the object's name, a dot, the time in nanoseconds in hex.
enum SchedulerEvents {
    static func name(pod: String, at time: Time) -> String {
        let nanoseconds = time.seconds &* 1_000_000_000 &+ Int64(time.nanoseconds)
        return "\(pod).\(String(UInt64(bitPattern: nanoseconds), radix: 16))"
    }
}
