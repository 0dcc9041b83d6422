/// Why the store refused or failed a request. The API server turns each into a Kubernetes `Status`.
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound(ResourceKey, ObjectKey)
    case alreadyExists(ResourceKey, ObjectKey)
    /// The caller's resourceVersion (or UID) precondition does not hold.
    case conflict(ResourceKey, ObjectKey)
    /// A watch asked to resume from a resourceVersion older than the retained window.
    case expired(requested: Int64, oldest: Int64)
    /// The disk write failed; nothing of the batch was stored.
    case persistence(String)
    /// The object could not be encoded.
    case encoding(String)
    /// The store is closing: no new writes or watches.
    case shuttingDown

    public var description: String {
        switch self {
        case .notFound(let r, let k): "\(r) \"\(k.name)\" not found"
        case .alreadyExists(let r, let k): "\(r) \"\(k.name)\" already exists"
        case .conflict(let r, let k): "\(r) \"\(k.name)\": the object has been modified"
        case .expired(let requested, let oldest): "too old resource version: \(requested) (\(oldest))"
        case .persistence(let m): "storage error: \(m)"
        case .encoding(let m): "encoding error: \(m)"
        case .shuttingDown: "the store is shutting down"
        }
    }
}
