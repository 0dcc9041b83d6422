/// Strategic merge patch (`application/strategic-merge-patch+json`, what `kubectl apply`, `edit` and `patch`
/// send): a JSON merge patch in which lists with a merge key merge item by item, plus the directives
/// `$patch` (`replace`, `delete`, `merge`), `$retainKeys`, `$setElementOrder/<list>` and
/// `$deleteFromPrimitiveList/<list>`.
public enum StrategicMergePatch {
    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: PatchSchema) throws(PatchError) -> JSONValue {
        guard case .object = patch else { throw PatchError(malformed: true, "a strategic merge patch must be a JSON object") }
        return try merge(original, patch, path: "", schema: schema) ?? .object([:])
    }

    /// The merged value, or nil when the patch deletes it (`$patch: delete`).
    static func merge(_ original: JSONValue, _ patch: JSONValue, path: String, schema: PatchSchema) throws(PatchError) -> JSONValue? {
        guard case .object(let members) = patch else { return patch }
        switch members["$patch"]?.stringValue {
        case "replace": return .object(stripDirectives(members))
        case "delete": return nil
        case nil, "merge": break
        case let other?: throw PatchError(malformed: true, "unknown patch directive \"\(other)\" at \(path.isEmpty ? "the top level" : path)")
        }
        var result = original.objectValue ?? [:]
        if let retain = members["$retainKeys"] {
            guard case .array(let keys) = retain else { throw PatchError(malformed: true, "$retainKeys must be a list of field names") }
            let keep = Set(keys.compactMap(\.stringValue))
            result = result.filter { keep.contains($0.key) }
        }
        var orders: [String: [JSONValue]] = [:]
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            if key == "$patch" || key == "$retainKeys" { continue }
            if key.hasPrefix("$setElementOrder/") {
                guard case .array(let order) = value else { throw PatchError(malformed: true, "\(key) must be a list") }
                orders[String(key.dropFirst("$setElementOrder/".count))] = order
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                guard case .array(let remove) = value else { throw PatchError(malformed: true, "\(key) must be a list") }
                if case .array(let items) = result[field] { result[field] = .array(items.filter { !remove.contains($0) }) }
                continue
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if value == .null {
                result[key] = nil
            } else if case .array(let items) = value, let strategy = schema.lists[childPath] {
                result[key] = try mergeList(result[key]?.arrayValue ?? [], items, strategy: strategy, path: childPath, schema: schema)
            } else if case .object = value {
                result[key] = try merge(result[key] ?? .object([:]), value, path: childPath, schema: schema)
            } else {
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard case .array(let items) = result[field] else { continue }
            let childPath = path.isEmpty ? field : "\(path).\(field)"
            result[field] = .array(reorder(items, by: order, strategy: schema.lists[childPath]))
        }
        return .object(result)
    }

    static func mergeList(
        _ original: [JSONValue], _ patch: [JSONValue], strategy: PatchSchema.ListStrategy, path: String, schema: PatchSchema
    ) throws(PatchError) -> JSONValue {
        // A list-level {"$patch": "replace"} item replaces the list with the other items.
        if patch.contains(where: { $0.objectValue?.count == 1 && $0["$patch"] == "replace" }) {
            return .array(patch.filter { !($0.objectValue?.count == 1 && $0["$patch"] == "replace") }.map(stripped))
        }
        switch strategy {
        case .mergePrimitives:
            var items = original
            for value in patch where !items.contains(value) { items.append(value) }
            return .array(items)
        case .mergeByKey(let key):
            var items = original
            for item in patch {
                guard case .object(let fields) = item else {
                    throw PatchError(malformed: true, "items of \(path) must be objects with \"\(key)\"")
                }
                let id = fields[key]
                if fields["$patch"] == "delete" {
                    items.removeAll { $0[key] == id }
                    continue
                }
                if let i = items.firstIndex(where: { $0[key] == id && id != nil }) {
                    if let merged = try merge(items[i], item, path: path + "[]", schema: schema) {
                        items[i] = merged
                    } else {
                        items.remove(at: i)
                    }
                } else {
                    items.append(stripped(item))
                }
            }
            return .array(items)
        }
    }

    /// Items named in `order` first, in that order; the others after, in their order.
    static func reorder(_ items: [JSONValue], by order: [JSONValue], strategy: PatchSchema.ListStrategy?) -> [JSONValue] {
        func identity(_ v: JSONValue) -> JSONValue {
            if case .mergeByKey(let key)? = strategy { return v[key] ?? .null }
            return v
        }
        let wanted = order.map(identity)
        var remaining = items
        var out: [JSONValue] = []
        for id in wanted {
            if let i = remaining.firstIndex(where: { identity($0) == id }) { out.append(remaining.remove(at: i)) }
        }
        return out + remaining
    }

    static func stripDirectives(_ members: [String: JSONValue]) -> [String: JSONValue] {
        members.filter { !$0.key.hasPrefix("$") }.mapValues(stripped)
    }

    static func stripped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): .object(stripDirectives(members))
        case .array(let items): .array(items.map(stripped))
        default: value
        }
    }
}
