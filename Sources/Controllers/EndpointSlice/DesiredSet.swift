import KubeAPI

/// Desired endpoints of one port list, keyed by identity, handed out in insertion order.
///
/// Endpoints live in an array and the dictionary holds their positions, so building, matching against existing
/// slices and filling new slices each hash an identity once, and nothing is copied.
struct DesiredSet {
    /// Positions of every endpoint ever inserted; an entry whose endpoint is gone is stale, not removed, so that
    /// popping does not hash again.
    private var positions: [EndpointIdentity: Int] = [:]
    private var endpoints: [Endpoint?] = []
    private var cursor = 0
    private(set) var count = 0

    init(capacity: Int = 0) {
        positions.reserveCapacity(capacity)
        endpoints.reserveCapacity(capacity)
    }

    var isEmpty: Bool { count == 0 }

    /// Adds or replaces; a replaced endpoint keeps its place.
    mutating func insert(_ endpoint: consuming Endpoint) {
        let id = EndpointIdentity(endpoint)
        if let previous = positions.updateValue(endpoints.count, forKey: id), endpoints[previous] != nil {
            // A second pod with the same identity (rare): replace, keeping the first one's place.
            positions[id] = previous
            endpoints[previous] = endpoint
        } else {
            endpoints.append(endpoint)
            count += 1
        }
    }

    mutating func remove(_ id: EndpointIdentity) -> Endpoint? {
        guard let i = positions[id], let endpoint = endpoints[i] else { return nil }
        endpoints[i] = nil
        count -= 1
        return endpoint
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
