/// kubelet's crash-loop back-off: the first restart is at once, then 10 s, doubling to at most 5 minutes; a
/// container that ran for 10 minutes starts again from the beginning.
public struct RestartBackoff: Sendable, Hashable {
    public static let initial: Duration = .seconds(10)
    public static let maximum: Duration = .seconds(300)
    public static let resetAfter: Duration = .seconds(600)

    private var restarts = 0

    public init() {}

    /// The wait before the next start, given how long the container ran before it exited.
    public mutating func next(ranFor: Duration) -> Duration {
        if ranFor >= Self.resetAfter { restarts = 0 }
        defer { restarts += 1 }
        if restarts == 0 { return .zero }
        var wait = Self.initial
        for _ in 1..<restarts where wait < Self.maximum { wait *= 2 }
        return min(wait, Self.maximum)
    }
}
