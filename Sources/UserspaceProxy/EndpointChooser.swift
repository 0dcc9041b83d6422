import ProxyCore

/// Picks the endpoint of one Service port for each new connection or UDP flow, and the order in which the
/// others are tried when it does not answer. Pure: time comes in as an argument, so tests drive the clock.
///
/// Affinity (`sessionAffinity: ClientIP`): a client IP that reached an endpoint within `affinityTimeout`
/// goes back to it; each new connection refreshes the pin. Pins are forgotten when they expire and when their
/// endpoint leaves. The pin table holds at most `maxPins`: when full and nothing has expired, a new client is
/// balanced like any other but not pinned, so that a flood of client addresses cannot grow it.
struct EndpointChooser: Sendable {
    typealias Instant = ContinuousClock.Instant

    struct Pin: Sendable, Hashable {
        var endpoint: EndpointTarget
        var lastUsed: Instant
    }

    private(set) var endpoints: [EndpointTarget]
    let balancing: UserspaceBalancing
    private(set) var affinityTimeout: Duration?
    let maxPins: Int
    private(set) var pins: [String: Pin] = [:]
    /// Round robin: the index of the next first choice.
    private var next = 0
    /// When the pin table was last swept, so that a full table is not scanned on every connection.
    private var lastSweep: Instant?

    init(endpoints: [EndpointTarget], balancing: UserspaceBalancing, affinityTimeout: Duration?, maxPins: Int = 65_536) {
        self.endpoints = endpoints
        self.balancing = balancing
        self.affinityTimeout = affinityTimeout
        self.maxPins = maxPins
    }

    /// New endpoints for new connections; the round robin goes on where it was, pins to endpoints that left are
    /// dropped. Connections already open are not the chooser's business.
    mutating func update(endpoints: [EndpointTarget], affinityTimeout: Duration?) {
        let kept = Set(endpoints)
        self.endpoints = endpoints
        self.affinityTimeout = affinityTimeout
        if affinityTimeout == nil {
            pins.removeAll()
        } else {
            pins = pins.filter { kept.contains($0.value.endpoint) }
        }
        if !endpoints.isEmpty { next %= endpoints.count } else { next = 0 }
    }

    /// The endpoints to try for a new connection from `client`, best first: the pinned endpoint if any, else the
    /// balancer's pick; then every other endpoint once, in the port's order after the first.
    mutating func attemptOrder(client: String?, now: Instant) -> [EndpointTarget] {
        var generator = SystemRandomNumberGenerator()
        return attemptOrder(client: client, now: now, using: &generator)
    }

    mutating func attemptOrder(client: String?, now: Instant, using generator: inout some RandomNumberGenerator) -> [EndpointTarget] {
        guard !endpoints.isEmpty else { return [] }
        var first: Int?
        if let client, let timeout = affinityTimeout, let pin = pins[client] {
            if now - pin.lastUsed <= timeout, let index = endpoints.firstIndex(of: pin.endpoint) {
                first = index
            } else {
                pins[client] = nil
            }
        }
        let start: Int
        if let first {
            start = first
        } else {
            switch balancing {
            case .roundRobin:
                start = next % endpoints.count
                next = (start + 1) % endpoints.count
            case .random:
                start = Int.random(in: 0..<endpoints.count, using: &generator)
            }
        }
        return (0..<endpoints.count).map { endpoints[(start + $0) % endpoints.count] }
    }

    /// `client` is now served by `endpoint`: pins it (or refreshes its pin) when the port has affinity.
    mutating func connected(client: String?, to endpoint: EndpointTarget, now: Instant) {
        guard let client, let timeout = affinityTimeout else { return }
        if pins[client] == nil, pins.count >= maxPins {
            sweep(now: now, timeout: timeout)
            guard pins.count < maxPins else { return }
        }
        pins[client] = Pin(endpoint: endpoint, lastUsed: now)
    }

    /// Forgets expired pins, at most once a second.
    private mutating func sweep(now: Instant, timeout: Duration) {
        if let lastSweep, now - lastSweep < .seconds(1) { return }
        lastSweep = now
        pins = pins.filter { now - $0.value.lastUsed <= timeout }
    }

    /// The endpoint `client` is pinned to now, if any (for tests and statistics).
    func pinned(_ client: String, now: Instant) -> EndpointTarget? {
        guard let timeout = affinityTimeout, let pin = pins[client], now - pin.lastUsed <= timeout else { return nil }
        return pin.endpoint
    }
}
