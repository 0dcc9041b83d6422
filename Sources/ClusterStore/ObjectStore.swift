import DequeModule
import KubeAPI
import Logging
import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import Synchronization

/// The cluster's objects: versioned by one monotonic resourceVersion, durable before any write is acknowledged,
/// and watchable from any resourceVersion still in the recent-events window.
///
/// Reads see only committed (durable) writes. Writes are staged under a lock (preconditions checked against
/// committed and in-flight state, resourceVersion assigned), then written to disk in groups by one committer
/// thread: each transaction takes every write staged while the previous one was on its way to disk, so
/// concurrent writers share one fsync and no writer waits for batches after its own. Watchers get events in
/// resourceVersion order, each through its own bounded buffer.
public final class ObjectStore: Sendable {
    public struct Configuration: Sendable {
        /// How many recent events are kept for watches that resume from a resourceVersion.
        public var eventWindow: Int
        /// How many live events a watcher may fall behind before it is closed.
        public var watcherCapacity: Int

        public init(eventWindow: Int = 10_000, watcherCapacity: Int = 1_000) {
            self.eventWindow = eventWindow
            self.watcherCapacity = watcherCapacity
        }
    }

    /// Turns stored JSON back into a typed object (the API server knows which type each resource has).
    public typealias ObjectDecoder = @Sendable (ResourceKey, ByteBuffer) throws -> any APIObject

    struct Staged: Sendable {
        var mutation: PersistedMutation
        var event: StoreEvent
        var ticket: CommitTicket
    }

    struct StagedKey: Hashable {
        var resource: ResourceKey
        var key: ObjectKey
    }

    struct State {
        var objects: [ResourceKey: [ObjectKey: StoredObject]] = [:]
        /// The last committed resourceVersion.
        var resourceVersion: Int64 = 0
        var nextResourceVersion: Int64 = 1
        /// In-flight writes: the state each key will have once they commit (nil: deleted), and how many.
        var staged: [StagedKey: (object: StoredObject?, writes: Int)] = [:]
        var queue: [Staged] = []
        /// Commits since the last checkpoint request.
        var sinceCheckpoint = 0
        var events: Deque<StoreEvent> = []
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
        var closed = false
    }

    let state: Mutex<State>
    let persistence: any StorePersistence
    let configuration: Configuration
    private let threadPool: NIOThreadPool
    /// Wakes the committer (value 1: writes are queued or the store is closing).
    private let pending = ConditionLock(value: 0)
    /// Wakes the checkpointer (value 1: a checkpoint is due or the store is closing).
    private let checkpointDue = ConditionLock(value: 0)
    private let logger: Logger

    /// Opens the store on `persistence`, loading every object and the retained events.
    public init(
        persistence: any StorePersistence, configuration: Configuration = Configuration(),
        decode: ObjectDecoder, logger: Logger = Logger(label: "switchboard.store")
    ) throws {
        self.persistence = persistence
        self.configuration = configuration
        self.logger = logger
        let loaded = try persistence.load()
        var s = State()
        for entry in loaded.objects {
            let object = try decode(entry.resource, entry.json)
            s.objects[entry.resource, default: [:]][entry.key] = StoredObject(
                resource: entry.resource, key: entry.key, resourceVersion: entry.resourceVersion, object: object,
                json: entry.json)
            s.resourceVersion = max(s.resourceVersion, entry.resourceVersion)
        }
        // Replaying the window in order gives each event the state before it, where the window holds it.
        var last: [StagedKey: StoredObject] = [:]
        for m in loaded.events {
            let object = StoredObject(
                resource: m.resource, key: m.key, resourceVersion: m.resourceVersion,
                object: try decode(m.resource, m.json), json: m.json)
            let k = StagedKey(resource: m.resource, key: m.key)
            let kind: StoreEvent.Kind = m.kind == .added ? .added : m.kind == .deleted ? .deleted : .modified
            s.events.append(StoreEvent(kind: kind, object: object, previous: kind == .added ? nil : last[k]))
            last[k] = kind == .deleted ? nil : object
            s.resourceVersion = max(s.resourceVersion, m.resourceVersion)
        }
        s.resourceVersion = max(s.resourceVersion, loaded.resourceVersion)
        s.nextResourceVersion = s.resourceVersion + 1
        state = Mutex(s)
        threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        threadPool.submit { [self] _ in self.commitLoop() }
        threadPool.submit { [self] _ in self.checkpointLoop() }
    }

    /// Commits after this many transactions a checkpoint is requested, off the commit path.
    static let checkpointEvery = 256

    /// Closes every watch and stops the disk thread. Writes after this fail.
    public func shutdown() async {
        let watchers = state.withLock { s -> [Watcher] in
            s.closed = true
            return Array(s.watchers.values)
        }
        for w in watchers { w.close(.shutdown) }
        pending.lock()
        pending.unlock(withValue: 1)
        checkpointDue.lock()
        checkpointDue.unlock(withValue: 1)
        try? await threadPool.shutdownGracefully()
    }

    // MARK: Reads (committed state only)

    /// The last committed resourceVersion.
    public var resourceVersion: Int64 { state.withLock { $0.resourceVersion } }

    public func get(_ resource: ResourceKey, _ key: ObjectKey) -> StoredObject? {
        state.withLock { $0.objects[resource]?[key] }
    }

    /// Objects of a resource (in one namespace, or all), sorted by namespace and name, with the resourceVersion
    /// the list is consistent at.
    public func list(_ resource: ResourceKey, namespace: String? = nil) -> (items: [StoredObject], resourceVersion: Int64) {
        let (all, version) = state.withLock { s -> ([StoredObject], Int64) in
            guard let objects = s.objects[resource] else { return ([], s.resourceVersion) }
            if let namespace {
                return (objects.values.filter { $0.key.namespace == namespace }, s.resourceVersion)
            }
            return (Array(objects.values), s.resourceVersion)
        }
        return (all.sorted { $0.key < $1.key }, version)
    }

    /// Namespaces that hold at least one object of any namespaced resource.
    public func count(_ resource: ResourceKey) -> Int { state.withLock { $0.objects[resource]?.count ?? 0 } }

    // MARK: Writes

    /// The object as the next write will see it: committed, or as an in-flight write will leave it. For the
    /// read half of a read-modify-write; never return this to a client.
    public func currentForWrite(_ resource: ResourceKey, _ key: ObjectKey) -> StoredObject? {
        state.withLock { s in
            if let staged = s.staged[StagedKey(resource: resource, key: key)] { return staged.object }
            return s.objects[resource]?[key]
        }
    }

    /// Stores a new object. Fails with `.alreadyExists` when the name is taken.
    @discardableResult
    public func create(_ resource: ResourceKey, _ object: any APIObject) async throws(StoreError) -> StoredObject {
        try await write(resource, key: key(of: object), object: object) { current throws(StoreError) in
            if current != nil { throw .alreadyExists(resource, self.key(of: object)) }
        }
    }

    /// Replaces an object. `expectedResourceVersion` (when given) must be the current one, else `.conflict`.
    @discardableResult
    public func update(
        _ resource: ResourceKey, _ object: any APIObject, expectedResourceVersion: Int64?
    ) async throws(StoreError) -> StoredObject {
        let key = key(of: object)
        return try await write(resource, key: key, object: object) { current throws(StoreError) in
            guard let current else { throw .notFound(resource, key) }
            if let expected = expectedResourceVersion, expected != current.resourceVersion {
                throw .conflict(resource, key)
            }
            if let uid = object.metadata.uid, !uid.isEmpty, uid != current.uid { throw .conflict(resource, key) }
        }
    }

    /// Removes an object; returns its last state at the deletion's resourceVersion.
    @discardableResult
    public func delete(
        _ resource: ResourceKey, _ key: ObjectKey, expectedResourceVersion: Int64? = nil, expectedUID: String? = nil
    ) async throws(StoreError) -> StoredObject {
        try await write(resource, key: key, object: nil) { current throws(StoreError) in
            guard let current else { throw .notFound(resource, key) }
            if let expected = expectedResourceVersion, expected != current.resourceVersion { throw .conflict(resource, key) }
            if let uid = expectedUID, uid != current.uid { throw .conflict(resource, key) }
        }
    }

    private func key(of object: any APIObject) -> ObjectKey {
        ObjectKey(namespace: object.metadata.namespace ?? "", name: object.metadata.name ?? "")
    }

    /// Stages one write (nil object: delete) after `check` accepts the current state, then waits until it is
    /// durable, committing the queue itself when no commit is running.
    private func write(
        _ resource: ResourceKey, key: ObjectKey, object: (any APIObject)?,
        check: (StoredObject?) throws(StoreError) -> Void
    ) async throws(StoreError) -> StoredObject {
        let ticket = CommitTicket()
        let (stored, first) = try state.withLock { s throws(StoreError) -> (StoredObject, Bool) in
            if s.closed { throw .shuttingDown }
            let k = StagedKey(resource: resource, key: key)
            let current = s.staged[k].map(\.object) ?? s.objects[resource]?[key]
            try check(current)
            let version = s.nextResourceVersion
            let stored: StoredObject
            let kind: StoreEvent.Kind
            do {
                if let object {
                    stored = try StoredObject(resource: resource, resourceVersion: version, object: object)
                    kind = current == nil ? .added : .modified
                } else {
                    stored = try StoredObject(resource: resource, resourceVersion: version, object: current!.object)
                    kind = .deleted
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw .encoding("\(error)")
            }
            s.nextResourceVersion += 1
            let mutationKind: PersistedMutation.Kind = kind == .added ? .added : kind == .deleted ? .deleted : .modified
            s.queue.append(Staged(
                mutation: PersistedMutation(kind: mutationKind, resource: resource, key: key, resourceVersion: version, json: stored.json),
                event: StoreEvent(kind: kind, object: stored, previous: current),
                ticket: ticket))
            let writes = (s.staged[k]?.writes ?? 0) + 1
            s.staged[k] = (kind == .deleted ? nil : stored, writes)
            return (stored, s.queue.count == 1)
        }
        if first {
            pending.lock()
            pending.unlock(withValue: 1)
        }
        try await ticket.wait()
        return stored
    }

    /// The committer thread: waits for staged writes, commits them in one transaction, publishes them and
    /// answers their writers; until the store closes and the queue is empty.
    private func commitLoop() {
        while true {
            pending.lock(whenValue: 1)
            pending.unlock(withValue: 0)
            let (batch, closed, checkpoint) = state.withLock { s -> ([Staged], Bool, Bool) in
                defer { s.queue.removeAll(keepingCapacity: true) }
                if !s.queue.isEmpty { s.sinceCheckpoint += 1 }
                let due = s.sinceCheckpoint >= Self.checkpointEvery
                if due { s.sinceCheckpoint = 0 }
                return (s.queue, s.closed, due)
            }
            if !batch.isEmpty {
                let forget = max(0, batch.last!.mutation.resourceVersion - Int64(configuration.eventWindow))
                let result: Result<Void, StoreError>
                do {
                    try persistence.commit(batch.map(\.mutation), forgetEventsThrough: forget)
                    result = .success(())
                } catch let error as StoreError {
                    result = .failure(error)
                } catch {
                    result = .failure(.persistence("\(error)"))
                }
                apply(batch, result: result)
                for staged in batch { staged.ticket.resolve(result) }
                if checkpoint {
                    checkpointDue.lock()
                    checkpointDue.unlock(withValue: 1)
                }
                // Writes staged during this commit are the next batch.
                if state.withLock({ !$0.queue.isEmpty }) {
                    pending.lock()
                    pending.unlock(withValue: 1)
                }
            }
            if closed && state.withLock({ $0.queue.isEmpty }) { return }
        }
    }

    /// The checkpointer thread: folds the write-ahead log into the database when asked, so that commits never
    /// pay for it.
    private func checkpointLoop() {
        while true {
            checkpointDue.lock(whenValue: 1)
            checkpointDue.unlock(withValue: 0)
            if state.withLock({ $0.closed }) { return }
            do {
                try persistence.checkpoint()
            } catch {
                logger.warning("checkpoint failed (it is retried later): \(error)")
            }
        }
    }

    /// Makes a committed batch visible (objects, events, watchers), or drops a failed one.
    private func apply(_ batch: [Staged], result: Result<Void, StoreError>) {
        let overflowed = state.withLock { s -> [Watcher] in
            var overflowed: [Watcher] = []
            for staged in batch {
                let k = StagedKey(resource: staged.mutation.resource, key: staged.mutation.key)
                if let entry = s.staged[k] {
                    s.staged[k] = entry.writes <= 1 ? nil : (entry.object, entry.writes - 1)
                }
            }
            guard case .success = result else {
                if case .failure(let error) = result { logger.error("commit failed, \(batch.count) writes lost: \(error)") }
                return []
            }
            for staged in batch {
                let event = staged.event
                if event.kind == .deleted {
                    s.objects[event.resource]?[event.object.key] = nil
                } else {
                    s.objects[event.resource, default: [:]][event.object.key] = event.object
                }
                s.resourceVersion = event.resourceVersion
                s.events.append(event)
                for watcher in s.watchers.values where watcher.filter.resource == event.resource {
                    if let delivery = watcher.filter.view(of: event), !watcher.deliver(delivery) {
                        overflowed.append(watcher)
                        s.watchers[watcher.id] = nil
                    }
                }
            }
            while s.events.count > configuration.eventWindow { s.events.removeFirst() }
            return overflowed
        }
        for watcher in overflowed { watcher.close(.tooSlow) }
    }

    // MARK: Watches

    /// Opens a watch. From nil or 0: every current object as ADDED, then changes. From a resourceVersion:
    /// the changes after it (from the window), then live; `.expired` when the window no longer reaches back.
    public func watch(_ filter: WatchFilter, from resourceVersion: Int64?) throws(StoreError) -> Watcher {
        try state.withLock { s throws(StoreError) -> Watcher in
            if s.closed { throw .shuttingDown }
            var initial: [WatchDelivery] = []
            if let from = resourceVersion, from > 0 {
                let oldest = s.events.first?.resourceVersion ?? (s.resourceVersion + 1)
                if from < oldest - 1 && from < s.resourceVersion { throw .expired(requested: from, oldest: oldest) }
                for event in s.events where event.resourceVersion > from {
                    if let delivery = filter.view(of: event) { initial.append(delivery) }
                }
            } else {
                let objects = (s.objects[filter.resource] ?? [:]).values.filter(filter.matches).sorted { $0.key < $1.key }
                initial = objects.map { .event(.added, $0) }
            }
            let id = s.nextWatcherID
            s.nextWatcherID += 1
            let watcher = Watcher(id: id, filter: filter, initial: initial, capacity: configuration.watcherCapacity)
            s.watchers[id] = watcher
            watcher.continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
            }
            return watcher
        }
    }

    /// Sends every watcher a bookmark at the current resourceVersion, in order with its events.
    public func broadcastBookmarks() {
        let overflowed = state.withLock { s -> [Watcher] in
            let full = s.watchers.values.filter { !$0.deliver(.bookmark(s.resourceVersion)) }
            for watcher in full { s.watchers[watcher.id] = nil }
            return full
        }
        for watcher in overflowed { watcher.close(.tooSlow) }
    }

    /// Number of open watches (for metrics and tests).
    public var watcherCount: Int { state.withLock { $0.watchers.count } }
}
