import Synchronization

/// Storage that lasts as long as the process: for tests, and for `switchboard up --data-dir ''`-style throwaway
/// clusters.
public final class MemoryPersistence: StorePersistence {
    private let state = Mutex(PersistedState())
    /// Set to make the next commit fail (tests of failure paths).
    private let failNext = Mutex<String?>(nil)

    public init() {}

    public func load() throws -> PersistedState { state.withLock { $0 } }

    public func failNextCommit(_ message: String) { failNext.withLock { $0 = message } }

    public func commit(_ batch: [PersistedMutation], forgetEventsThrough: Int64) throws {
        if let message = failNext.withLock({ f -> String? in defer { f = nil }; return f }) {
            throw StoreError.persistence(message)
        }
        state.withLock { s in
            for m in batch {
                s.objects.removeAll { $0.resource == m.resource && $0.key == m.key }
                if m.kind != .deleted { s.objects.append((m.resource, m.key, m.resourceVersion, m.json)) }
                s.events.append(m)
                s.resourceVersion = max(s.resourceVersion, m.resourceVersion)
            }
            s.events.removeAll { $0.resourceVersion <= forgetEventsThrough }
        }
    }
}
