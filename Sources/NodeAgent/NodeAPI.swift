#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeAPI
import KubeClient
import KubeClientHTTP
import Logging
import NIOCore
import NIOHTTP1

/// The node agent's writes to the API, as kubelet makes them: status as a merge patch of the status
/// subresource (so that it never conflicts with the scheduler or a deletion), the final delete with grace 0
/// and a UID precondition (so that a new pod of the same name is never deleted), and events.
public struct NodeAPI: Sendable {
    public let client: HTTPClusterClient
    let nodeName: String
    let logger: Logger

    public init(client: HTTPClusterClient, nodeName: String, logger: Logger) {
        self.client = client
        self.nodeName = nodeName
        self.logger = logger
    }

    public func patchStatus(namespace: String, name: String, _ status: PodStatus) async throws {
        let body = try KubeJSON.encode(StatusPatch(status: status))
        _ = try await client.send(
            APIRequestMessage(
                method: .PATCH, target: "/api/v1/namespaces/\(namespace)/pods/\(name)/status",
                headers: [("Content-Type", "application/merge-patch+json")], body: ByteBuffer(bytes: body)))
    }

    /// The last step of a graceful deletion: the processes are gone, the object may go.
    public func finishDeletion(namespace: String, name: String, uid: String) async throws {
        let body = #"{"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"preconditions":{"uid":"\#(uid)"}}"#
        do {
            _ = try await client.send(
                APIRequestMessage(
                    method: .DELETE, target: "/api/v1/namespaces/\(namespace)/pods/\(name)",
                    headers: [("Content-Type", "application/json")], body: ByteBuffer(string: body)))
        } catch let status as Status where status.code == 404 || status.code == 409 {
            // Gone already, or replaced by a new pod of the same name: nothing of ours is left to delete.
        }
    }

    /// Records an event about `pod`; best effort, as kubelet's are.
    public func event(_ pod: Pod, type: String, reason: String, message: String) async {
        let namespace = pod.metadata.namespace ?? "default"
        let now = Time.now().truncatedToSeconds
        var event = Event(
            metadata: ObjectMeta(name: "\(pod.metadata.name ?? "pod").\(Self.suffix())", namespace: namespace),
            involvedObject: ObjectReference(
                kind: "Pod", namespace: namespace, name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: "v1"),
            reason: reason, message: message, type: type,
            source: EventSource(component: "kubelet", host: nodeName), firstTimestamp: now, lastTimestamp: now, count: 1)
        event.reportingComponent = "kubelet"
        event.reportingInstance = nodeName
        do {
            _ = try await client.create(event)
        } catch {
            logger.debug("event \(reason) for \(namespace)/\(pod.metadata.name ?? ""): \(error)")
        }
    }

    static func suffix() -> String {
        String(UInt64.random(in: 0..<UInt64.max) & 0xffff_ffff_ffff, radix: 16)
    }

    struct StatusPatch: Encodable {
        var status: PodStatus
    }
}
