import KubeAPI

/// A change to one object, at the resourceVersion of the change.
public struct StoreEvent: Sendable {
    public enum Kind: Sendable, Hashable {
        case added, modified, deleted
    }

    public let kind: Kind
    /// The object after the change; for a deletion, its last state stamped with the deletion's resourceVersion.
    public let object: StoredObject
    /// The object before the change, when known (for watches filtered by labels or fields, which see an object
    /// that starts or stops matching as added or deleted).
    public let previous: StoredObject?

    public var resourceVersion: Int64 { object.resourceVersion }
    public var resource: ResourceKey { object.resource }
}

/// What a watcher receives.
public enum WatchDelivery: Sendable {
    case event(WatchEventType, StoredObject)
    /// Progress without an event: every event up to this resourceVersion has been delivered.
    case bookmark(Int64)
}

/// Why a watch ended from the store's side.
public enum WatchTermination: Sendable, Hashable {
    /// The watcher did not keep up: its buffer filled.
    case tooSlow
    /// The store is shutting down.
    case shutdown
}

/// Which objects a watch wants: one resource, optionally one namespace, and a predicate (label and field
/// selectors).
public struct WatchFilter: Sendable {
    public var resource: ResourceKey
    public var namespace: String?
    public var predicate: @Sendable (StoredObject) -> Bool

    public init(resource: ResourceKey, namespace: String? = nil, predicate: @escaping @Sendable (StoredObject) -> Bool = { _ in true }) {
        self.resource = resource
        self.namespace = namespace
        self.predicate = predicate
    }

    func matches(_ object: StoredObject) -> Bool {
        object.resource == resource && (namespace == nil || object.key.namespace == namespace) && predicate(object)
    }

    /// What a filtered watcher sees of an event: an object that starts matching is added, one that stops is
    /// deleted. Nil when the watcher should see nothing.
    func view(of event: StoreEvent) -> WatchDelivery? {
        guard event.resource == resource else { return nil }
        let now = matches(event.object)
        switch event.kind {
        case .added:
            return now ? .event(.added, event.object) : nil
        case .deleted:
            let before = event.previous.map(matches) ?? now
            return before ? .event(.deleted, event.object) : nil
        case .modified:
            guard let previous = event.previous else {
                // Unknown past (an event replayed after a restart): an object that does not match now may have
                // matched before, and a deletion of an object a client never had is harmless.
                return .event(now ? .modified : .deleted, event.object)
            }
            switch (matches(previous), now) {
            case (true, true): return .event(.modified, event.object)
            case (false, true): return .event(.added, event.object)
            case (true, false): return .event(.deleted, event.object)
            case (false, false): return nil
            }
        }
    }
}
