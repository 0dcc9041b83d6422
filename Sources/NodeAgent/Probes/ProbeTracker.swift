import KubeAPI

/// A readiness probe's verdict from its results: kubelet's thresholds. A container starts not ready; it
/// becomes ready after `successThreshold` successes in a row and not ready after `failureThreshold` failures in
/// a row.
public struct ProbeTracker: Sendable, Hashable {
    public let successThreshold: Int
    public let failureThreshold: Int
    public private(set) var ready = false
    private var successes = 0
    private var failures = 0

    public init(successThreshold: Int = 1, failureThreshold: Int = 3) {
        self.successThreshold = max(1, successThreshold)
        self.failureThreshold = max(1, failureThreshold)
    }

    public init(_ probe: Probe) {
        self.init(
            successThreshold: Int(probe.successThreshold ?? 1), failureThreshold: Int(probe.failureThreshold ?? 3))
    }

    /// Records one result; returns true when the verdict changed.
    @discardableResult
    public mutating func record(success: Bool) -> Bool {
        let before = ready
        if success {
            successes += 1
            failures = 0
            if successes >= successThreshold { ready = true }
        } else {
            failures += 1
            successes = 0
            if failures >= failureThreshold { ready = false }
        }
        return ready != before
    }

    /// A restarted container is not ready until probed again.
    public mutating func reset() {
        ready = false
        successes = 0
        failures = 0
    }
}

/// A probe's timing with kubelet's defaults.
public struct ProbeTiming: Sendable, Hashable {
    public var initialDelay: Duration
    public var period: Duration
    public var timeout: Duration

    public init(_ probe: Probe) {
        initialDelay = .seconds(Int(max(0, probe.initialDelaySeconds ?? 0)))
        period = .seconds(Int(max(1, probe.periodSeconds ?? 10)))
        timeout = .seconds(Int(max(1, probe.timeoutSeconds ?? 1)))
    }
}
