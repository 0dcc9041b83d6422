import NIOCore

/// What a write does to durable storage, in resourceVersion order.
public struct PersistedMutation: Sendable {
    public enum Kind: Int, Sendable {
        case added = 0
        case modified = 1
        case deleted = 2
    }

    public var kind: Kind
    public var resource: ResourceKey
    public var key: ObjectKey
    public var resourceVersion: Int64
    /// The object after the write; for a deletion, its last state (at the deletion's resourceVersion).
    public var json: ByteBuffer

    public init(kind: Kind, resource: ResourceKey, key: ObjectKey, resourceVersion: Int64, json: ByteBuffer) {
        self.kind = kind
        self.resource = resource
        self.key = key
        self.resourceVersion = resourceVersion
        self.json = json
    }
}

/// Everything durable storage holds: the live objects, the recent events, the last resourceVersion.
public struct PersistedState: Sendable {
    public var resourceVersion: Int64 = 0
    public var objects: [(resource: ResourceKey, key: ObjectKey, resourceVersion: Int64, json: ByteBuffer)] = []
    /// Recent mutations, oldest first.
    public var events: [PersistedMutation] = []

    public init() {}
}

/// Durable storage for the object store. Calls are synchronous and come from one thread at a time; a commit
/// must be durable (fsync'd) before it returns.
public protocol StorePersistence: Sendable {
    func load() throws -> PersistedState
    /// Stores a batch atomically, and forgets events at or below `forgetEventsThrough`.
    func commit(_ batch: [PersistedMutation], forgetEventsThrough: Int64) throws
    /// Housekeeping off the commit path (SQLite: fold the write-ahead log into the database). May run
    /// concurrently with `commit`.
    func checkpoint() throws
}

extension StorePersistence {
    public func checkpoint() throws {}
}
