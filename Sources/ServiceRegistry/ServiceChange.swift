import IPAM
import KubeAPI

/// The outcome of admitting a Service write: the object to store and the ClusterIPs it moved.
///
/// Allocation happens when the write is admitted; releases wait until the write is stored. The API server calls
/// `commit` once the object is persisted, or `revert` when persisting fails, so a failed write never leaks an
/// address and never gives away one that a stored Service still holds.
public struct ServiceChange: Sendable, Hashable {
    /// The Service as it should be stored.
    public var service: Service
    /// Addresses taken for this write (released by `revert`).
    public var allocated: [IPAddress]
    /// Addresses to free once the write is stored (freed by `commit`).
    public var toRelease: [IPAddress]

    public init(service: Service, allocated: [IPAddress] = [], toRelease: [IPAddress] = []) {
        self.service = service
        self.allocated = allocated
        self.toRelease = toRelease
    }
}
