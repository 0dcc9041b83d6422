import ClusterStore
import KubeAPI
import NIOCore

/// An open watch as a response body: newline-delimited JSON events (`{"type":"ADDED","object":{…}}`), flushed
/// as they happen, until the timeout, the client leaving, or the store closing it.
public struct WatchStream: Sendable {
    let watcher: Watcher?
    /// Lines written before any event (an ERROR for an expired resourceVersion, then the stream ends).
    let preamble: [ByteBuffer]
    let timeout: Duration
    let bookmarks: Bool
    /// With `sendInitialEvents=true`: a bookmark marking the end of the initial state.
    let initialEventsEndBookmark: Bool
    let encode: @Sendable (WatchDelivery, _ isFirstEvent: Bool) -> ByteBuffer
    let bookmarkLine: @Sendable (_ resourceVersion: Int64, _ initialEventsEnd: Bool) -> ByteBuffer
    let slowLine: ByteBuffer

    /// Writes the stream through `write`. Returns when the watch is over.
    public func run(_ write: (ByteBuffer) async throws -> Void) async throws {
        for line in preamble { try await write(line) }
        guard let watcher else { return }
        let timeout = self.timeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The deadline ends the watch by ending its stream; the loop below then returns normally.
            group.addTask {
                try? await Task.sleep(for: timeout)
                watcher.cancel()
            }
            var first = true
            var initialLeft = watcher.initial.count
            var lastVersion: Int64 = 0
            if initialEventsEndBookmark && initialLeft == 0 { try await write(bookmarkLine(0, true)) }
            for await delivery in watcher {
                switch delivery {
                case .bookmark(let rv):
                    lastVersion = rv
                    if bookmarks { try await write(bookmarkLine(rv, false)) }
                case .event(_, let object):
                    lastVersion = max(lastVersion, object.resourceVersion)
                    try await write(encode(delivery, first))
                    first = false
                }
                if initialLeft > 0 {
                    initialLeft -= 1
                    if initialLeft == 0 && initialEventsEndBookmark { try await write(bookmarkLine(lastVersion, true)) }
                }
            }
            if watcher.terminatedBecause == .tooSlow { try await write(slowLine) }
            group.cancelAll()
        }
    }
}

extension TypedResource {
    func watch(_ request: APIRequest, _ target: RequestInfo, server: APIServer) async throws(Status) -> APIResponse {
        let predicate = try selectorPredicate(request)
        let table = server.wantsTable(request)
        let sendInitial = request.flag("sendInitialEvents")
        var from: Int64?
        if let text = request.query("resourceVersion"), !text.isEmpty {
            guard let rv = Int64(text) else { throw Status.badRequest("invalid resource version \"\(text)\"") }
            from = rv
        }
        if sendInitial { from = nil }
        let timeout = request.query("timeoutSeconds").flatMap(Int64.init).map { Duration.seconds($0) } ?? .seconds(1800)
        let filter = WatchFilter(resource: info.key, namespace: target.namespace, predicate: predicate)
        let info = self.info
        let status = { (s: Status) -> ByteBuffer in
            var line = ByteBuffer(string: #"{"type":"ERROR","object":"#)
            var encoded = ByteBuffer.json(s)
            line.writeBuffer(&encoded)
            line.writeString("}\n")
            return line
        }
        var preamble: [ByteBuffer] = []
        var watcher: Watcher?
        do {
            watcher = try server.store.watch(filter, from: from)
        } catch .expired(let requested, let oldest) {
            preamble = [status(Status(
                message: "too old resource version: \(requested) (\(oldest))", reason: .expired,
                details: StatusDetails(), code: 410))]
        } catch {
            throw server.status(for: error, info: info)
        }
        let stream = WatchStream(
            watcher: watcher, preamble: preamble, timeout: timeout, bookmarks: request.flag("allowWatchBookmarks"),
            initialEventsEndBookmark: sendInitial,
            encode: { delivery, first in
                guard case .event(let type, let stored) = delivery else { return ByteBuffer() }
                var line = ByteBuffer(string: #"{"type":"\#(type.rawValue)","object":"#)
                if table {
                    let value = Table(columns: Object.tableColumns, rows: [(self.typed(stored).tableCells(now: .now()), stored.object.metadata)])
                        .value(resourceVersion: stored.resourceVersion, includeColumns: first)
                    var encoded = ByteBuffer.json(value)
                    line.writeBuffer(&encoded)
                } else {
                    line.writeImmutableBuffer(stored.json)
                }
                line.writeString("}\n")
                return line
            },
            bookmarkLine: { rv, end in
                let annotations = end ? #","annotations":{"k8s.io/initial-events-end":"true"}"# : ""
                return ByteBuffer(string: #"{"type":"BOOKMARK","object":{"kind":"\#(info.kind)","apiVersion":"\#(info.apiVersion)","metadata":{"resourceVersion":"\#(rv)"\#(annotations)}}}"# + "\n")
            },
            slowLine: status(Status(
                message: "the watch fell too far behind and was closed; resume from the last resourceVersion or list again",
                reason: .expired, details: StatusDetails(), code: 410)))
        return APIResponse(
            status: 200, headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
            body: .stream(stream))
    }
}
