import IPAM
import KubeAPI
import ServiceRegistry
import Synchronization

/// The cluster's `ServiceRegistry` behind a lock: every ClusterIP allocation and release goes through here.
final class ServiceAllocation: Sendable {
    private let registry: Mutex<ServiceRegistry>

    init(registry: ServiceRegistry) { self.registry = Mutex(registry) }

    var serviceCIDRs: [CIDR] { registry.withLock { $0.allocator.serviceCIDRs } }

    func kubernetesService(targetPort: Int32) -> Service {
        registry.withLock { $0.kubernetesService(targetPort: targetPort) }
    }

    func repair(from services: [Service]) -> ClusterIPRepairReport {
        registry.withLock { $0.repair(from: services) }
    }

    func isAllocated(_ ip: IPAddress) -> Bool { registry.withLock { $0.allocator.isAllocated(ip) } }

    /// Admission of Services: the registry's create and update, with commit and revert bound to this lock.
    var behaviour: ResourceBehaviour<Service> {
        ResourceBehaviour(
            admitCreate: { service, dryRun throws(Status) in
                let change = try self.registry.withLock { r throws(Status) in try r.create(service, dryRun: dryRun) }
                return self.admission(change)
            },
            admitUpdate: { new, old, dryRun throws(Status) in
                let change = try self.registry.withLock { r throws(Status) in try r.update(new, from: old, dryRun: dryRun) }
                return self.admission(change)
            },
            afterDelete: { service in
                self.registry.withLock { r in r.commit(r.delete(service)) }
            },
            copyStatus: { from, to in to.status = from.status },
            patchSchema: .service)
    }

    private func admission(_ change: ServiceChange) -> Admission<Service> {
        Admission(
            object: change.service,
            commit: { self.registry.withLock { $0.commit(change) } },
            revert: { self.registry.withLock { $0.revert(change) } })
    }
}
