import KubeAPI

/// Desired endpoints of one port list, keyed by identity, handed out in insertion order.
///
/// Endpoints live in an array and the dictionary holds their positions, so building, matching against existing
/// slices and filling new slices each hash an identity once, and nothing is copied.
struct DesiredSet {
    /// Positions of endpoints by identity, built on the first lookup: a Service whose slices are all new never
    /// needs it. An entry whose endpoint is gone is stale, not removed, so that popping does not hash again.
    private var positions: [EndpointIdentity: Int]?
    private var endpoints: [Endpoint?] = []
    private var cursor = 0
    /// Next position to try in order, before the index exists.
    private var scan = 0
    private(set) var count = 0

    /// Callers add each pod once (pods have unique names, so their identities are unique); `insert` does not
    /// look for an earlier endpoint with the same identity until the index exists.
    init(capacity: Int = 0) {
        endpoints.reserveCapacity(capacity)
    }

    var isEmpty: Bool { count == 0 }

    /// Adds or replaces; a replaced endpoint keeps its place.
    mutating func insert(_ endpoint: consuming Endpoint) {
        if positions != nil {
            let id = EndpointIdentity(endpoint)
            if let previous = positions!.updateValue(endpoints.count, forKey: id), endpoints[previous] != nil {
                // The same identity again: replace, keeping the first one's place.
                positions![id] = previous
                endpoints[previous] = endpoint
                return
            }
        }
        endpoints.append(endpoint)
        count += 1
    }

    mutating func remove(_ id: EndpointIdentity) -> Endpoint? {
        if positions == nil {
            // Existing slices usually list endpoints in the order the pods come: try the next one in order
            // before hashing anything.
            while scan < endpoints.count && endpoints[scan] == nil { scan += 1 }
            if scan < endpoints.count, let endpoint = endpoints[scan], EndpointIdentity(endpoint) == id {
                endpoints[scan] = nil
                count -= 1
                scan += 1
                return endpoint
            }
            buildIndex()
        }
        guard let i = positions![id], let endpoint = endpoints[i] else { return nil }
        endpoints[i] = nil
        count -= 1
        return endpoint
    }

    private mutating func buildIndex() {
        var index: [EndpointIdentity: Int] = [:]
        index.reserveCapacity(endpoints.count)
        for i in endpoints.indices {
            guard let endpoint = endpoints[i] else { continue }
            let id = EndpointIdentity(endpoint)
            if let first = index[id], endpoints[first] != nil {
                // Defensive: a repeated pod keeps the first place and the last content.
                endpoints[first] = endpoint
                endpoints[i] = nil
                count -= 1
            } else {
                index[id] = i
            }
        }
        positions = index
    }

    /// Adds every endpoint of `other` still present, in its order.
    mutating func merge(_ other: consuming DesiredSet) {
        for endpoint in other.endpoints { if let endpoint { insert(endpoint) } }
    }

    /// The earliest inserted endpoint still present, removed.
    mutating func popFirst() -> Endpoint? {
        while cursor < endpoints.count {
            let i = cursor
            cursor += 1
            if let endpoint = endpoints[i] {
                endpoints[i] = nil
                count -= 1
                return endpoint
            }
        }
        return nil
    }
}

/// The desired endpoints of one address type, grouped by port list, as the pods are read.
///
/// Consecutive pods almost always share a port list, so one set is filled directly and filed under its key
/// only when the key changes, instead of hashing the key for every pod.
struct DesiredEndpoints {
    private var sets: [EndpointPortKey: DesiredSet] = [:]
    private var currentKey: EndpointPortKey?
    private var current = DesiredSet()
    private let capacity: Int
    /// Why pods were left out (unknown nodes).
    private(set) var skipped: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ desired: consuming DesiredEndpoint) {
        if let problem = desired.problem { skipped.append(problem) }
        if desired.key != currentKey {
            file()
            currentKey = desired.key
            current = sets.removeValue(forKey: desired.key) ?? DesiredSet(capacity: capacity)
        }
        if let endpoint = desired.endpoint.take() { current.insert(endpoint) }
    }

    /// Every port list seen (including those whose pods had no address of this type) with its endpoints.
    mutating func finish() -> [EndpointPortKey: DesiredSet] {
        file()
        currentKey = nil
        // Handed over, not shared: a shared set would be copied whole on its first mutation.
        var result: [EndpointPortKey: DesiredSet] = [:]
        swap(&result, &sets)
        return result
    }

    private mutating func file() {
        guard let key = currentKey else { return }
        if var existing = sets.removeValue(forKey: key) {
            existing.merge(current)
            sets[key] = existing
        } else {
            sets[key] = current
        }
        current = DesiredSet()
    }
}
