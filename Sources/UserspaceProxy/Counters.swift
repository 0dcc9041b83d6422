import Metrics
import Synchronization

/// The relay's live counters, shared by every event loop: atomics, because a lock per relayed read would
/// serialize the loops. Mirrored into swift-metrics instruments created once.
final class UserspaceCounters: Sendable {
    let activeConnections = Atomic<Int>(0)
    let peakConnections = Atomic<Int>(0)
    let acceptedConnections = Atomic<Int>(0)
    let rejectedByLimit = Atomic<Int>(0)
    let retriedConnects = Atomic<Int>(0)
    let failedConnects = Atomic<Int>(0)
    let resetConnections = Atomic<Int>(0)
    let bytesRelayed = Atomic<Int>(0)
    let bufferedBytes = Atomic<Int>(0)
    let activeUDPFlows = Atomic<Int>(0)
    let udpFlowsOpened = Atomic<Int>(0)
    let droppedDatagrams = Atomic<Int>(0)
    let datagramsRelayed = Atomic<Int>(0)
    let listeners = Atomic<Int>(0)
    /// Clients outside `allowedClients`: reset or ignored.
    let notAdmitted = Atomic<Int>(0)

    let connectionsGauge = Gauge(label: "switchboard_userspace_connections")
    let flowsGauge = Gauge(label: "switchboard_userspace_udp_flows")
    let rejectedCounter = Counter(label: "switchboard_userspace_rejected_total")
    let retriesCounter = Counter(label: "switchboard_userspace_connect_retries_total")
    let listenersGauge = Gauge(label: "switchboard_userspace_listeners")
    let failedCounter = Counter(label: "switchboard_userspace_failed_connects_total")
    let bytesCounter = Counter(label: "switchboard_userspace_relayed_bytes_total")

    /// Counts a new client connection unless `limit` are open already; false: the client is to be refused.
    func openConnection(limit: Int) -> Bool {
        let now = activeConnections.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= limit else {
            activeConnections.wrappingSubtract(1, ordering: .relaxed)
            rejectedByLimit.wrappingAdd(1, ordering: .relaxed)
            rejectedCounter.increment()
            return false
        }
        acceptedConnections.wrappingAdd(1, ordering: .relaxed)
        var peak = peakConnections.load(ordering: .relaxed)
        while now > peak {
            let (exchanged, original) = peakConnections.compareExchange(expected: peak, desired: now, ordering: .relaxed)
            if exchanged { break }
            peak = original
        }
        connectionsGauge.record(now)
        return true
    }

    func closeConnection() {
        let now = activeConnections.wrappingSubtract(1, ordering: .relaxed).newValue
        connectionsGauge.record(now)
    }

    func retried() {
        retriedConnects.wrappingAdd(1, ordering: .relaxed)
        retriesCounter.increment()
    }

    func failed() {
        failedConnects.wrappingAdd(1, ordering: .relaxed)
        failedCounter.increment()
    }

    func relayed(_ bytes: Int) {
        bytesRelayed.wrappingAdd(bytes, ordering: .relaxed)
        bytesCounter.increment(by: bytes)
    }

    /// Counts a new UDP flow unless `limit` are open already.
    func openFlow(limit: Int) -> Bool {
        let now = activeUDPFlows.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= limit else {
            activeUDPFlows.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        udpFlowsOpened.wrappingAdd(1, ordering: .relaxed)
        flowsGauge.record(now)
        return true
    }

    func closeFlow() {
        let now = activeUDPFlows.wrappingSubtract(1, ordering: .relaxed).newValue
        flowsGauge.record(now)
    }

    func setListeners(_ count: Int) {
        listeners.store(count, ordering: .relaxed)
        listenersGauge.record(count)
    }
}
