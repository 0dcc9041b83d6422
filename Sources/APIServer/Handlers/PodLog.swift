import ClusterStore
import KubeAPI
import NIOCore
import Synchronization

/// Where container logs are: each node agent writes a container's stdout and stderr to
/// `<dir>/<namespace>_<pod>_<uid>/<container>.log` (appending across restarts, never truncating) and names `<dir>`
/// in its Node's `switchboard.dev/pod-log-directory` annotation. Every component runs on one machine, so the API
/// server reads the files itself where kube-apiserver would ask the kubelet.
public enum PodLogFiles {
    /// The Node annotation naming the node's log directory (an absolute path).
    public static let directoryAnnotation = "switchboard.dev/pod-log-directory"

    /// The log file of one container of one pod.
    public static func path(directory: String, namespace: String, pod: String, uid: String, container: String) -> String {
        (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/\(namespace)_\(pod)_\(uid)/\(container).log"
    }
}

/// The `core/v1 PodLogOptions` query parameters the server honours; `sinceSeconds`, `sinceTime` and
/// `timestamps` are accepted and ignored (the files carry no timestamps).
struct PodLogOptions {
    var container: String?
    var follow = false
    var previous = false
    var tailLines: Int64?
    var limitBytes: Int64?

    init(_ request: APIRequest, pod: String) throws(Status) {
        container = request.query("container").flatMap { $0.isEmpty ? nil : $0 }
        follow = try Self.bool(request, "follow")
        previous = try Self.bool(request, "previous")
        tailLines = try Self.int(request, "tailLines")
        limitBytes = try Self.int(request, "limitBytes")
        var errors: [FieldError] = []
        if let tailLines, tailLines < 0 {
            errors.append(.invalid(FieldPath("tailLines"), .int(tailLines), "must be greater than or equal to 0"))
        }
        if let limitBytes, limitBytes < 1 {
            errors.append(.invalid(FieldPath("limitBytes"), .int(limitBytes), "must be greater than 0"))
        }
        if !errors.isEmpty { throw Status.invalid(kind: "PodLogOptions", name: pod, errors: errors) }
    }

    /// Go's `strconv.ParseBool`, as the query parameter codec uses.
    private static func bool(_ request: APIRequest, _ name: String) throws(Status) -> Bool {
        guard let text = request.query(name), !text.isEmpty else { return false }
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw Status.badRequest("\(name): strconv.ParseBool: parsing \(BadValue.goQuote(text)): invalid syntax")
        }
    }

    private static func int(_ request: APIRequest, _ name: String) throws(Status) -> Int64? {
        guard let text = request.query(name), !text.isEmpty else { return nil }
        guard let value = Int64(text) else {
            throw Status.badRequest("\(name): strconv.ParseInt: parsing \(BadValue.goQuote(text)): invalid syntax")
        }
        return value
    }
}

extension APIServer {
    /// `GET /api/v1/namespaces/NS/pods/NAME/log`: the container's log file as `text/plain`, from the start or its
    /// last `tailLines` lines, at most `limitBytes`; with `follow`, then what is appended, until the pod is
    /// deleted or the client leaves. Errors carry kube-apiserver's and the kubelet's messages.
    func podLog(_ request: APIRequest, namespace: String, name: String) async throws(Status) -> APIResponse {
        guard let stored = store.get(ResourceInfo.pods.key, ObjectKey(namespace: namespace, name: name)), let pod = stored.object as? Pod
        else { throw Status.notFound(resource: "pods", name: name) }
        let options = try PodLogOptions(request, pod: name)
        let container = try Self.logContainer(options.container, of: pod)
        if options.previous {
            // Restarts append to the same file, so there is never a separate previous log.
            throw Status.badRequest("previous terminated container \(BadValue.goQuote(container)) in pod \(BadValue.goQuote(name)) not found")
        }
        guard let path = logPath(of: pod, container: container), let file = try await Self.open(path) else {
            throw Self.waitingToStart(container, of: pod)
        }
        let start: Int64
        let end: Int64
        do {
            end = try await file.size()
            if let lines = options.tailLines {
                start = try await Self.offset(ofLast: lines, linesIn: file, before: end)
            } else {
                start = 0
            }
        } catch {
            throw Status.internalError("reading the log of container \(container): \(error)")
        }
        let reader = LogReader(
            file: file, from: start, until: options.follow ? nil : end, limit: options.limitBytes,
            follow: options.follow ? (store, stored) : nil)
        return APIResponse(status: 200, headers: [("Content-Type", "text/plain")], body: .byteStream(ByteStream { write in
            try await reader.run(write)
        }))
    }

    /// The container whose log is wanted: the one named (of the containers or init containers), or the only
    /// one. Upstream's `ValidateContainer`.
    static func logContainer(_ requested: String?, of pod: Pod) throws(Status) -> String {
        let containers = (pod.spec.containers ?? []).map(\.name)
        let initContainers = (pod.spec.initContainers ?? []).map(\.name)
        guard let requested else {
            if containers.count == 1 { return containers[0] }
            if containers.isEmpty { throw Status.badRequest("a container name must be specified for pod \(pod.name)") }
            var message = "a container name must be specified for pod \(pod.name), choose one of: [\(containers.joined(separator: " "))]"
            if !initContainers.isEmpty { message += " or one of the init containers: [\(initContainers.joined(separator: " "))]" }
            throw Status.badRequest(message)
        }
        guard containers.contains(requested) || initContainers.contains(requested) else {
            throw Status.badRequest("container \(requested) is not valid for pod \(pod.name)")
        }
        return requested
    }

    /// The file the pod's node writes the container's log to; nil while the pod has no node, or its node has
    /// not said where its logs go.
    private func logPath(of pod: Pod, container: String) -> String? {
        guard let nodeName = pod.spec.nodeName, !nodeName.isEmpty,
            let node = store.get(ResourceInfo.nodes.key, ObjectKey(name: nodeName))?.object as? Node,
            let directory = node.metadata.annotations?[PodLogFiles.directoryAnnotation], directory.hasPrefix("/")
        else { return nil }
        return PodLogFiles.path(directory: directory, namespace: pod.namespace, pod: pod.name, uid: pod.metadata.uid ?? "", container: container)
    }

    private static func open(_ path: String) async throws(Status) -> LogFile? {
        do {
            return try await LogFile.open(path)
        } catch {
            throw Status.internalError("\(error)")
        }
    }

    /// The kubelet's answer for a container with no log yet: 400 with the reason it is waiting.
    static func waitingToStart(_ container: String, of pod: Pod) -> Status {
        let statuses = (pod.status.containerStatuses ?? []) + (pod.status.initContainerStatuses ?? [])
        let reason = statuses.first { $0.name == container }?.state?.waiting?.reason.flatMap { $0.isEmpty ? nil : $0 } ?? "ContainerCreating"
        return Status.badRequest("container \(BadValue.goQuote(container)) in pod \(BadValue.goQuote(pod.name)) is waiting to start: \(reason)")
    }

    /// Where the last `lines` lines before `end` begin, reading backwards a chunk at a time. A last line without
    /// its newline counts as a line, as the kubelet's tail counts it.
    static func offset(ofLast lines: Int64, linesIn file: LogFile, before end: Int64) async throws -> Int64 {
        if lines == 0 || end == 0 { return end }
        var position = end
        var newlines: Int64 = 0
        var skipFinalNewline = true
        while position > 0 {
            let chunkStart = max(0, position - Int64(LogFile.chunkSize))
            let chunk = try await file.read(at: chunkStart, count: Int(position - chunkStart))
            let bytes = chunk.readableBytesView
            var index = bytes.endIndex
            while index > bytes.startIndex {
                index = bytes.index(before: index)
                let isNewline = bytes[index] == UInt8(ascii: "\n")
                if skipFinalNewline {
                    skipFinalNewline = false
                    if isNewline { continue }
                }
                if isNewline {
                    newlines += 1
                    if newlines == lines { return chunkStart + Int64(index - bytes.startIndex) + 1 }
                }
            }
            position = chunkStart
        }
        return 0
    }
}

/// Writes a log file's bytes in chunks of at most 64 KiB: up to `until` (the size when the request came), or
/// when following, on and on: it looks for growth every 100 ms and stops once the pod is deleted (after what
/// was written until then), the store shuts down, or the client leaves (cancellation).
struct LogReader: Sendable {
    let file: LogFile
    let from: Int64
    let until: Int64?
    let limit: Int64?
    /// The store and the pod as the request found it, when following.
    let follow: (store: ObjectStore, pod: StoredObject)?

    static let pollInterval: Duration = .milliseconds(100)

    func run(_ write: (ByteBuffer) async throws -> Void) async throws {
        guard let follow else {
            _ = try await copy(from: from, to: until ?? .max, budget: limit ?? .max, write)
            return
        }
        // Watching the pod from the version the request read sees a deletion that happened since, too; a
        // watch the store refuses (shutting down) leaves what is there now.
        let name = follow.pod.key.name
        let filter = WatchFilter(resource: ResourceInfo.pods.key, namespace: follow.pod.key.namespace) { $0.key.name == name }
        guard let watcher = try? follow.store.watch(filter, from: follow.pod.resourceVersion) else {
            _ = try await copy(from: from, to: try await file.size(), budget: limit ?? .max, write)
            return
        }
        let podGone = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await delivery in watcher {
                    if case .event(.deleted, _) = delivery { break }
                }
                podGone.set()
            }
            defer {
                watcher.cancel()
                group.cancelAll()
            }
            var offset = from
            var budget = limit ?? .max
            while budget > 0 {
                let gone = podGone.isSet
                let size = try await file.size()
                // A file that shrank was replaced or truncated after all: start again at its beginning.
                if size < offset { offset = 0 }
                (offset, budget) = try await copy(from: offset, to: size, budget: budget, write)
                if gone { return }
                try await Task.sleep(for: Self.pollInterval)
            }
        }
    }

    /// Writes `from..<to`, at most `budget` bytes; returns where it stopped and the budget left.
    private func copy(from start: Int64, to end: Int64, budget: Int64, _ write: (ByteBuffer) async throws -> Void) async throws -> (Int64, Int64) {
        var offset = start
        var left = budget
        while offset < end && left > 0 {
            try Task.checkCancellation()
            let chunk = try await file.read(at: offset, count: Int(min(Int64(LogFile.chunkSize), end - offset, left)))
            if chunk.readableBytes == 0 { break }
            offset += Int64(chunk.readableBytes)
            left -= Int64(chunk.readableBytes)
            try await write(chunk)
        }
        return (offset, left)
    }
}

/// A flag one task sets and another reads.
private final class Flag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}
