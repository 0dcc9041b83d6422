import ClusterStore
import KubeAPI
import NIOCore

extension TypedResource {
    /// The label and field selectors of a list or watch, as one predicate. Bad selectors are 400s.
    func selectorPredicate(_ request: APIRequest) throws(Status) -> @Sendable (StoredObject) -> Bool {
        try info.selectorPredicate(labelSelector: request.query("labelSelector"), fieldSelector: request.query("fieldSelector"))
    }

    func get(_ request: APIRequest, _ target: RequestInfo, name: String, server: APIServer) throws(Status) -> APIResponse {
        guard let stored = server.store.get(info.key, key(target, name: name)) else { throw notFound(name) }
        if server.wantsTable(request) {
            return server.tableResponse(rows: [typed(stored)], resourceVersion: stored.resourceVersion)
        }
        return .json(200, stored.json)
    }

    func list(_ request: APIRequest, _ target: RequestInfo, server: APIServer) throws(Status) -> APIResponse {
        let predicate = try selectorPredicate(request)
        let (all, version) = server.store.list(info.key, namespace: target.namespace)
        var items = all.filter(predicate)

        // Paging: the continue token is the last key returned and the version the list started at.
        var listVersion = version
        if let token = request.query("continue"), !token.isEmpty {
            guard let page = ContinueToken(token) else {
                throw Status(message: "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)", reason: .badRequest, code: 400)
            }
            listVersion = page.resourceVersion
            items = items.filter { page.after < $0.key }
        }
        var next: String?
        if let limit = request.query("limit").flatMap(Int.init), limit > 0, items.count > limit {
            items = Array(items.prefix(limit))
            next = ContinueToken(resourceVersion: listVersion, after: items.last!.key).encoded
        }

        if server.wantsTable(request) {
            return server.tableResponse(rows: items.map(typed), resourceVersion: listVersion, continueToken: next)
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(items.reduce(128) { $0 + $1.json.readableBytes + 1 })
        buffer.writeString(#"{"kind":"\#(info.kind)List","apiVersion":"\#(info.apiVersion)","metadata":{"resourceVersion":"\#(listVersion)""#)
        if let next { buffer.writeString(#","continue":"\#(next)""#) }
        buffer.writeString(#"},"items":["#)
        for (i, item) in items.enumerated() {
            if i > 0 { buffer.writeString(",") }
            buffer.writeImmutableBuffer(item.json)
        }
        buffer.writeString("]}")
        return .json(200, buffer)
    }
}

/// `?continue=` tokens: where the previous page ended.
struct ContinueToken {
    var resourceVersion: Int64
    var after: ObjectKey

    init(resourceVersion: Int64, after: ObjectKey) {
        self.resourceVersion = resourceVersion
        self.after = after
    }

    init?(_ token: String) {
        guard let data = Base64.decode(token), let text = String(validating: data, as: UTF8.self) else { return nil }
        let parts = text.split(separator: "\u{0}", omittingEmptySubsequences: false)
        guard parts.count == 3, let version = Int64(parts[0]) else { return nil }
        resourceVersion = version
        after = ObjectKey(namespace: String(parts[1]), name: String(parts[2]))
    }

    var encoded: String { Base64.encode(Array("\(resourceVersion)\u{0}\(after.namespace)\u{0}\(after.name)".utf8)) }
}

/// Base64 without Foundation (URL-safe alphabet, no padding), for continue tokens.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < bytes.count { out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(b2 & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for c in text.utf8 {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let chunk = values[i..<min(i + 4, values.count)].map { $0 }
            guard chunk.count >= 2 else { return nil }
            out.append(chunk[0] << 2 | chunk[1] >> 4)
            if chunk.count > 2 { out.append((chunk[1] & 15) << 4 | chunk[2] >> 2) }
            if chunk.count > 3 { out.append((chunk[2] & 3) << 6 | chunk[3]) }
            i += 4
        }
        return out
    }
}

extension ResourceInfo {
    /// `labelSelector` and `fieldSelector` as one predicate over stored objects of this resource; bad ones are 400s.
    func selectorPredicate(labelSelector: String?, fieldSelector: String?) throws(Status)
        -> @Sendable (StoredObject) -> Bool
    {
        var labels = Selector.everything
        var fields = FieldSelector.everything
        do {
            if let text = labelSelector, !text.isEmpty { labels = try Selector(parsing: text) }
            if let text = fieldSelector, !text.isEmpty {
                fields = try FieldSelector(parsing: text)
                try fields.validate(supported: selectableFields)
            }
        } catch {
            throw Status.badRequest(error.message)
        }
        if labels.isEverything && fields.isEverything { return { _ in true } }
        let labelSelector = labels
        let fieldSelector = fields
        return { stored in
            labelSelector.matches(stored.labels) && fieldSelector.matches { stored.object.selectableFieldValue($0) }
        }
    }
}
