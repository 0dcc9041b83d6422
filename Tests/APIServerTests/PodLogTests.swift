import ClusterStore
import Foundation
import KubeAPI
import NIOCore
import Synchronization
import Testing
@testable import APIServer

/// `GET pods/NAME/log` in process: the container's file, found through the pod's node's log directory
/// annotation, whole, tailed, limited and followed; and the kubelet's errors for what has no log.
struct PodLogTests {
    /// A server with node `node-a` logging to a fresh directory, and the pods' paths in it.
    struct Cluster {
        let server: APIServer
        let directory: URL

        static func make(annotated: Bool = true) async throws -> Cluster {
            let server = try await APIServerTests.makeServer()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-logs-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let annotations = annotated ? #","annotations":{"switchboard.dev/pod-log-directory":"\#(directory.path)"}"# : ""
            let node = await APIServerTests.post(
                server, "/api/v1/nodes", #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"\#(annotations)}}"#)
            #expect(node.status == 201, "\(String(buffer: node.bytes))")
            return Cluster(server: server, directory: directory)
        }

        /// Creates a pod (on `node-a` unless `node` is nil) and returns its UID.
        @discardableResult
        func pod(_ name: String, containers: [String] = ["main"], node: String? = "node-a") async throws -> String {
            let list = containers.map { #"{"name":"\#($0)","image":"switchboard-echo"}"# }.joined(separator: ",")
            let nodeName = node.map { #","nodeName":"\#($0)""# } ?? ""
            let response = await APIServerTests.post(
                server, "/api/v1/namespaces/default/pods",
                #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)"},"spec":{"containers":[\#(list)]\#(nodeName)}}"#)
            #expect(response.status == 201, "\(String(buffer: response.bytes))")
            let metadata = try #require(try APIServerTests.object(response)["metadata"] as? [String: Any])
            return try #require(metadata["uid"] as? String)
        }

        /// The container's log file, created with `text`.
        @discardableResult
        func write(_ text: String, pod: String, uid: String, container: String = "main") throws -> URL {
            let folder = directory.appendingPathComponent("default_\(pod)_\(uid)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent("\(container).log")
            try Data(text.utf8).write(to: file)
            return file
        }

        func log(_ pod: String, _ query: [(String, String)] = []) async -> APIResponse {
            await server.handle(APIRequest(
                method: "GET", path: "/api/v1/namespaces/default/pods/\(pod)/log", query: query.map { (name: $0.0, value: $0.1) }))
        }

        func close() async {
            await server.store.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func text(_ response: APIResponse) async throws -> String {
        guard case .byteStream(let stream) = response.body else {
            Issue.record("not a stream: \(response.status) \(String(buffer: response.bytes))")
            return ""
        }
        return String(buffer: try await stream.collect())
    }

    static func message(_ response: APIResponse) throws -> String {
        try #require(try APIServerTests.object(response)["message"] as? String)
    }

    @Test func theLogIsTheContainersFileAsPlainText() async throws {
        let cluster = try await Cluster.make()
        let uid = try await cluster.pod("web")
        try cluster.write("one\ntwo\nthree\n", pod: "web", uid: uid)
        let response = await cluster.log("web")
        #expect(response.status == 200)
        #expect(response.headers.contains { $0.name == "Content-Type" && $0.value == "text/plain" })
        #expect(try await Self.text(response) == "one\ntwo\nthree\n")
        // Naming the only container is the same; limitBytes cuts.
        #expect(try await Self.text(cluster.log("web", [("container", "main")])) == "one\ntwo\nthree\n")
        #expect(try await Self.text(cluster.log("web", [("limitBytes", "6")])) == "one\ntw")
        await cluster.close()
    }

    @Test func tailLinesKeepsTheLastLines() async throws {
        let cluster = try await Cluster.make()
        let uid = try await cluster.pod("web")
        try cluster.write("one\ntwo\nthree\n", pod: "web", uid: uid)
        #expect(try await Self.text(cluster.log("web", [("tailLines", "2")])) == "two\nthree\n")
        #expect(try await Self.text(cluster.log("web", [("tailLines", "3")])) == "one\ntwo\nthree\n")
        #expect(try await Self.text(cluster.log("web", [("tailLines", "10")])) == "one\ntwo\nthree\n")
        #expect(try await Self.text(cluster.log("web", [("tailLines", "0")])) == "")
        // A last line still being written counts as a line.
        try cluster.write("one\ntwo\npartial", pod: "web", uid: uid)
        #expect(try await Self.text(cluster.log("web", [("tailLines", "2")])) == "two\npartial")

        // Across read chunks (64 KiB): the last 3 of 20 000 lines.
        let lines = (0..<20_000).map { String(format: "line %05d", $0) }
        try cluster.write(lines.joined(separator: "\n") + "\n", pod: "web", uid: uid)
        #expect(try await Self.text(cluster.log("web", [("tailLines", "3")])) == lines.suffix(3).joined(separator: "\n") + "\n")
        #expect(try await Self.text(cluster.log("web")).count == 20_000 * 11)

        let negative = await cluster.log("web", [("tailLines", "-1")])
        #expect(negative.status == 422)
        #expect(try Self.message(negative) == #"PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"#)
        await cluster.close()
    }

    @Test func severalContainersNeedAName() async throws {
        let cluster = try await Cluster.make()
        let uid = try await cluster.pod("duo", containers: ["a", "b"])
        try cluster.write("from b\n", pod: "duo", uid: uid, container: "b")
        let unnamed = await cluster.log("duo")
        #expect(unnamed.status == 400)
        #expect(try Self.message(unnamed) == "a container name must be specified for pod duo, choose one of: [a b]")
        #expect(try APIServerTests.object(unnamed)["reason"] as? String == "BadRequest")
        let unknown = await cluster.log("duo", [("container", "c")])
        #expect(unknown.status == 400)
        #expect(try Self.message(unknown) == "container c is not valid for pod duo")
        #expect(try await Self.text(cluster.log("duo", [("container", "b")])) == "from b\n")
        let previous = await cluster.log("duo", [("container", "b"), ("previous", "true")])
        #expect(previous.status == 400)
        #expect(try Self.message(previous) == #"previous terminated container "b" in pod "duo" not found"#)
        await cluster.close()
    }

    @Test func aContainerWithoutALogIsWaitingToStart() async throws {
        let waiting = #"container "main" in pod "PODNAME" is waiting to start: ContainerCreating"#
        let cluster = try await Cluster.make()
        // Not on a node yet.
        try await cluster.pod("unbound", node: nil)
        let unbound = await cluster.log("unbound")
        #expect(unbound.status == 400)
        #expect(try Self.message(unbound) == waiting.replacingOccurrences(of: "PODNAME", with: "unbound"))
        // On the node, no file yet.
        try await cluster.pod("early")
        #expect(try Self.message(await cluster.log("early")) == waiting.replacingOccurrences(of: "PODNAME", with: "early"))
        // On a node that does not say where its logs are.
        try await cluster.pod("elsewhere", node: "node-b")
        #expect(try Self.message(await cluster.log("elsewhere")) == waiting.replacingOccurrences(of: "PODNAME", with: "elsewhere"))
        #expect(await cluster.log("missing").status == 404)
        await cluster.close()
    }

    @Test func followStreamsAppendedBytesUntilThePodIsDeleted() async throws {
        let cluster = try await Cluster.make()
        let uid = try await cluster.pod("web")
        let file = try cluster.write("before\n", pod: "web", uid: uid)
        let response = await cluster.log("web", [("follow", "true")])
        guard case .byteStream(let stream) = response.body else {
            Issue.record("not a stream: \(response.status) \(String(buffer: response.bytes))")
            return
        }
        let received = Shared("")
        let finished = Shared(false)
        let reader = Task {
            defer { finished.value = true }
            try await stream.run { chunk in received.update { $0 += String(buffer: chunk) } }
        }
        #expect(await eventually { received.value == "before\n" })

        let handle = try FileHandle(forWritingTo: file)
        handle.seekToEndOfFile()
        handle.write(Data("after\n".utf8))
        #expect(await eventually { received.value == "before\nafter\n" }, "\(received.value)")

        // The node deletes the pod for good: the stream ends after the last bytes.
        handle.write(Data("last\n".utf8))
        try handle.close()
        let deleted = await cluster.server.handle(APIRequest(
            method: "DELETE", path: "/api/v1/namespaces/default/pods/web", query: [(name: "gracePeriodSeconds", value: "0")]))
        #expect(deleted.status == 200)
        let ended = await eventually { finished.value }
        #expect(ended)
        try await reader.value
        #expect(received.value == "before\nafter\nlast\n")
        await cluster.close()
    }

    @Test func aFollowEndsWhenTheClientGoesAway() async throws {
        let cluster = try await Cluster.make()
        let uid = try await cluster.pod("web")
        try cluster.write("x\n", pod: "web", uid: uid)
        guard case .byteStream(let stream) = await cluster.log("web", [("follow", "1")]).body else {
            Issue.record("not a stream")
            return
        }
        let reader = Task { try await stream.run { _ in } }
        reader.cancel()
        let result = await reader.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(cluster.server.store.watcherCount == 0)
        await cluster.close()
    }
}

/// A value the test and a stream's task share.
private final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
    func update(_ change: (inout Value) -> Void) { state.withLock { change(&$0) } }
}

/// Polls `condition` until it holds or `deadline` passes.
private func eventually(within deadline: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while true {
        if await condition() { return true }
        if clock.now >= end { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
}
