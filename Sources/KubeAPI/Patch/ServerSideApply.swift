/// Server-side apply (`application/apply-patch+yaml`): merges a manager's applied configuration into the live
/// object, removes what that manager applied before and no longer applies, and records which fields each
/// manager owns in `metadata.managedFields` (`fieldsV1`, the upstream set format).
///
/// This follows structured-merge-diff for the shapes Switchboard's kinds have: structs merge field by field,
/// associative lists merge by their keys, sets by value, atomic lists and maps are replaced whole. Ownership
/// is tracked for `Apply` managers; conflicts are reported against other appliers. Fields written by plain
/// updates are not owned by anyone (upstream assigns them to the updating manager).
public enum ServerSideApply {
    /// Another applier owns a field this configuration sets to a different value.
    public struct Conflict: Hashable, Sendable {
        public var manager: String
        /// The upstream rendering: `.spec.ports[port=80,protocol="TCP"].targetPort`.
        public var field: String
    }

    public struct Result: Sendable {
        public var object: JSONValue
        public var managedFields: [JSONValue]
    }

    /// Applies `configuration` for `manager` to `live` (nil: the object is new). With conflicts and without
    /// `force`, returns them instead; with `force`, the fields move to `manager`.
    public static func apply(
        _ configuration: JSONValue, to live: JSONValue?, manager: String, force: Bool, schema: ApplySchema,
        apiVersion: String, time: String
    ) -> Swift.Result<Result, ConflictError> {
        let applied = FieldSet(of: configuration, schema: schema)
        var entries = (live?["metadata"]?["managedFields"]?.arrayValue ?? [])
        let mine = entries.firstIndex { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == "Apply" }
        let previous = mine.map { FieldSet(fieldsV1: entries[$0]["fieldsV1"] ?? .object([:])) } ?? FieldSet()

        var result = live ?? .object([:])
        var othersOwn = FieldSet()
        var conflicts: [Conflict] = []
        for (index, entry) in entries.enumerated() where index != mine {
            guard entry["operation"]?.stringValue == "Apply", let other = entry["manager"]?.stringValue else { continue }
            var owned = FieldSet(fieldsV1: entry["fieldsV1"] ?? .object([:]))
            let shared = owned.intersection(applied)
            var lost = FieldSet()
            for path in shared.paths where !path.isEmpty {
                let theirs = value(at: path, in: result)
                let ours = value(at: path, in: configuration)
                if let theirs, let ours, !isContainer(theirs), theirs != ours {
                    conflicts.append(Conflict(manager: other, field: path.description))
                    lost.insert(path)
                }
            }
            if force && !lost.paths.isEmpty {
                owned.subtract(lost)
                entries[index]["fieldsV1"] = owned.fieldsV1
            }
            othersOwn.formUnion(owned)
        }
        if !conflicts.isEmpty && !force { return .failure(ConflictError(conflicts: conflicts)) }

        // What this manager applied before, applies no more, and nobody else owns: gone.
        var removed = previous
        removed.subtract(applied)
        removed.subtract(othersOwn)
        // Parents first: a removed list item takes its fields with it (and could not be found without them).
        for path in removed.paths.sorted(by: { $0.elements.count < $1.elements.count }) {
            remove(path, from: &result)
        }
        result = merge(result, configuration, path: "", schema: schema)

        let entry: JSONValue = .object([
            "manager": .string(manager), "operation": "Apply", "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": applied.fieldsV1,
        ])
        if let mine { entries[mine] = entry } else { entries.append(entry) }
        result["metadata"] = result["metadata"] ?? .object([:])
        result["metadata"]?["managedFields"] = .array(entries)
        return .success(Result(object: result, managedFields: entries))
    }

    /// Every conflict, as upstream's 409 message lists them.
    public struct ConflictError: Error, Hashable, Sendable, CustomStringConvertible {
        public var conflicts: [Conflict]

        public var description: String {
            let lines = conflicts.map { "conflict with \"\($0.manager)\": \($0.field)" }
            if lines.count == 1 { return "Apply failed with 1 conflict: \(lines[0])" }
            return "Apply failed with \(lines.count) conflicts: " + lines.joined(separator: "\n")
        }
    }

    // MARK: Merging

    static func merge(_ live: JSONValue, _ applied: JSONValue, path: String, schema: ApplySchema) -> JSONValue {
        switch (live, applied) {
        case (.object(var members), .object(let incoming)) where !schema.atomicMaps.contains(path):
            for (name, value) in incoming {
                let child = path.isEmpty ? name : "\(path).\(name)"
                members[name] = members[name].map { merge($0, value, path: child, schema: schema) } ?? value
            }
            return .object(members)
        case (.array(let items), .array(let incoming)):
            switch schema.lists[path] {
            case .associative(let keys)?:
                var merged = items
                for item in incoming {
                    let key = ApplySchema.key(of: item, keys: keys)
                    if let at = merged.firstIndex(where: { ApplySchema.key(of: $0, keys: keys) == key }) {
                        merged[at] = merge(merged[at], item, path: path + "[]", schema: schema)
                    } else {
                        merged.append(item)
                    }
                }
                return .array(merged)
            case .set?:
                return .array(items + incoming.filter { !items.contains($0) })
            case nil:
                return applied
            }
        default:
            return applied
        }
    }

    // MARK: Paths in values

    static func isContainer(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .array: true
        default: false
        }
    }

    static func value(at path: ManagedFieldPath, in root: JSONValue) -> JSONValue? {
        var current = root
        for element in path.elements {
            guard let next = child(element, of: current) else { return nil }
            current = next
        }
        return current
    }

    static func child(_ element: ManagedFieldPath.Element, of value: JSONValue) -> JSONValue? {
        switch element {
        case .field(let name): return value[name]
        case .key(let key): return value.arrayValue?.first { ApplySchema.matches($0, key) }
        case .value(let v): return value.arrayValue?.first { $0 == v }
        }
    }

    static func remove(_ path: ManagedFieldPath, from root: inout JSONValue) {
        guard let last = path.elements.last else { return }
        let parentPath = ManagedFieldPath(elements: Array(path.elements.dropLast()))
        guard var parent = value(at: parentPath, in: root) else { return }
        switch last {
        case .field(let name):
            guard case .object(var members) = parent else { return }
            members[name] = nil
            parent = .object(members)
        case .key(let key):
            guard case .array(let items) = parent else { return }
            parent = .array(items.filter { !ApplySchema.matches($0, key) })
        case .value(let v):
            guard case .array(let items) = parent else { return }
            parent = .array(items.filter { $0 != v })
        }
        set(parent, at: parentPath.elements[...], in: &root)
    }

    static func set(_ value: JSONValue, at path: ArraySlice<ManagedFieldPath.Element>, in root: inout JSONValue) {
        guard let first = path.first else {
            root = value
            return
        }
        switch first {
        case .field(let name):
            guard var child = root[name] else { return }
            set(value, at: path.dropFirst(), in: &child)
            root[name] = child
        case .key, .value:
            guard case .array(var items) = root,
                let at = items.firstIndex(where: {
                    if case .key(let key) = first { return ApplySchema.matches($0, key) }
                    if case .value(let v) = first { return $0 == v }
                    return false
                })
            else { return }
            set(value, at: path.dropFirst(), in: &items[at])
            root = .array(items)
        }
    }
}

/// The shapes structured-merge-diff needs beyond JSON: which lists are associative (and by which keys) or
/// sets, and which objects are maps (owned as a whole node) or atomic maps (owned as one leaf).
public struct ApplySchema: Sendable {
    public enum List: Sendable, Hashable {
        case associative([String])
        case set
    }

    /// Paths such as `spec.containers[].ports`.
    public var lists: [String: List]
    /// Objects that are maps rather than structs (`metadata.labels`).
    public var maps: Set<String>
    /// Maps replaced whole (`spec.selector` of a Service).
    public var atomicMaps: Set<String>

    public init(lists: [String: List], maps: Set<String> = [], atomicMaps: Set<String> = []) {
        self.lists = lists
        self.maps = maps.union(["metadata.labels", "metadata.annotations"])
        self.atomicMaps = atomicMaps
    }

    static let metadataLists: [String: List] = [
        "metadata.ownerReferences": .associative(["uid"]),
        "metadata.finalizers": .set,
    ]

    static func containerLists(_ prefix: String) -> [String: List] {
        [
            "\(prefix).ports": .associative(["containerPort", "protocol"]),
            "\(prefix).env": .associative(["name"]),
            "\(prefix).volumeMounts": .associative(["mountPath"]),
        ]
    }

    public static let service = ApplySchema(
        lists: metadataLists.merging(["spec.ports": .associative(["port", "protocol"])]) { a, _ in a },
        atomicMaps: ["spec.selector"])

    public static let pod: ApplySchema = {
        var lists = metadataLists
        for field in ["containers", "initContainers", "ephemeralContainers"] {
            lists["spec.\(field)"] = .associative(["name"])
            lists.merge(containerLists("spec.\(field)[]")) { a, _ in a }
        }
        lists["spec.volumes"] = .associative(["name"])
        lists["spec.imagePullSecrets"] = .associative(["name"])
        return ApplySchema(lists: lists, maps: ["spec.nodeSelector"])
    }()

    public static let node = ApplySchema(lists: metadataLists, maps: ["status.capacity", "status.allocatable"])

    /// Namespaces, Endpoints, EndpointSlices (whose lists are atomic) and Events.
    public static let metadataOnly = ApplySchema(lists: metadataLists)

    /// The key members of a list item; a missing `protocol` is TCP, its default.
    static func key(of item: JSONValue, keys: [String]) -> [String: JSONValue] {
        var key: [String: JSONValue] = [:]
        for name in keys {
            if let value = item[name] {
                key[name] = value
            } else if name == "protocol" {
                key[name] = "TCP"
            }
        }
        return key
    }

    static func matches(_ item: JSONValue, _ key: [String: JSONValue]) -> Bool {
        key.allSatisfy { name, value in (item[name] ?? (name == "protocol" ? "TCP" : nil)) == value }
    }
}

/// A path to one node of an object, as structured-merge-diff names them.
public struct ManagedFieldPath: Hashable, Sendable, CustomStringConvertible {
    public enum Element: Hashable, Sendable {
        case field(String)
        /// An associative list's item, by its key members.
        case key([String: JSONValue])
        /// A set's member.
        case value(JSONValue)
    }

    public var elements: [Element]

    public var isEmpty: Bool { elements.isEmpty }

    /// `.spec.ports[port=80,protocol="TCP"].targetPort`, as upstream prints conflicts.
    public var description: String {
        elements.map { element -> String in
            switch element {
            case .field(let name): ".\(name)"
            case .key(let key): "[" + key.sorted { $0.key < $1.key }.map { "\($0.key)=\(FieldSet.compact($0.value))" }.joined(separator: ",") + "]"
            case .value(let v): "[=\(FieldSet.compact(v))]"
            }
        }.joined()
    }
}

/// A set of field paths, convertible to and from `fieldsV1`.
public struct FieldSet: Sendable, Hashable {
    public private(set) var paths: Set<ManagedFieldPath> = []

    public init() {}

    /// Every node of `object` a manager owns by applying it: leaves, maps, lists and list items (the
    /// object's identity fields and status are not owned).
    public init(of object: JSONValue, schema: ApplySchema) {
        guard case .object(let members) = object else { return }
        for (name, value) in members where !["apiVersion", "kind", "status"].contains(name) {
            if name == "metadata", case .object(let meta) = value {
                for (field, v) in meta where !Self.systemMetadata.contains(field) {
                    collect(v, path: ManagedFieldPath(elements: [.field("metadata"), .field(field)]), schemaPath: "metadata.\(field)", schema: schema)
                }
                continue
            }
            collect(value, path: ManagedFieldPath(elements: [.field(name)]), schemaPath: name, schema: schema)
        }
    }

    static let systemMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "managedFields", "selfLink", "generateName",
    ]

    private mutating func collect(_ value: JSONValue, path: ManagedFieldPath, schemaPath: String, schema: ApplySchema) {
        switch value {
        case .object(let members) where !schema.atomicMaps.contains(schemaPath):
            if schema.maps.contains(schemaPath) { paths.insert(path) }
            for (name, child) in members {
                collect(child, path: ManagedFieldPath(elements: path.elements + [.field(name)]), schemaPath: "\(schemaPath).\(name)", schema: schema)
            }
        case .array(let items) where schema.lists[schemaPath] != nil:
            paths.insert(path)
            for item in items {
                switch schema.lists[schemaPath] {
                case .associative(let keys)?:
                    let itemPath = ManagedFieldPath(elements: path.elements + [.key(ApplySchema.key(of: item, keys: keys))])
                    paths.insert(itemPath)
                    if case .object(let members) = item {
                        for (name, child) in members {
                            collect(child, path: ManagedFieldPath(elements: itemPath.elements + [.field(name)]), schemaPath: "\(schemaPath)[].\(name)", schema: schema)
                        }
                    }
                default:
                    paths.insert(ManagedFieldPath(elements: path.elements + [.value(item)]))
                }
            }
        default:
            paths.insert(path)
        }
    }

    /// Parses `fieldsV1` (`{"f:spec":{"f:ports":{".":{},"k:{\"port\":80}":{...}}}}`).
    public init(fieldsV1: JSONValue) {
        func walk(_ node: JSONValue, _ prefix: [ManagedFieldPath.Element]) {
            guard case .object(let members) = node else { return }
            if members.isEmpty, !prefix.isEmpty { paths.insert(ManagedFieldPath(elements: prefix)) }
            for (name, child) in members {
                if name == "." {
                    if !prefix.isEmpty { paths.insert(ManagedFieldPath(elements: prefix)) }
                    continue
                }
                guard let element = Self.element(name) else { continue }
                walk(child, prefix + [element])
            }
        }
        walk(fieldsV1, [])
    }

    static func element(_ text: String) -> ManagedFieldPath.Element? {
        if text.hasPrefix("f:") { return .field(String(text.dropFirst(2))) }
        if text.hasPrefix("k:"), case .object(let key)? = try? KubeJSON.parse(bytes: Array(text.utf8.dropFirst(2))) { return .key(key) }
        if text.hasPrefix("v:"), let value = try? KubeJSON.parse(bytes: Array(text.utf8.dropFirst(2))) { return .value(value) }
        return nil
    }

    /// The upstream `fieldsV1` rendering: nested `f:`/`k:`/`v:` members, `.` where a node with children is
    /// itself in the set.
    public var fieldsV1: JSONValue {
        final class Node {
            var children: [String: Node] = [:]
            var member = false
        }
        let root = Node()
        for path in paths {
            var node = root
            for element in path.elements {
                let name: String
                switch element {
                case .field(let f): name = "f:" + f
                case .key(let key): name = "k:" + Self.compact(.object(key))
                case .value(let v): name = "v:" + Self.compact(v)
                }
                if let next = node.children[name] {
                    node = next
                } else {
                    let next = Node()
                    node.children[name] = next
                    node = next
                }
            }
            node.member = true
        }
        func render(_ node: Node) -> JSONValue {
            var members: [String: JSONValue] = [:]
            for (name, child) in node.children { members[name] = render(child) }
            if node.member && !node.children.isEmpty { members["."] = .object([:]) }
            return .object(members)
        }
        return render(root)
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.paths = paths.intersection(other.paths)
        return result
    }

    public mutating func subtract(_ other: FieldSet) { paths.subtract(other.paths) }
    public mutating func formUnion(_ other: FieldSet) { paths.formUnion(other.paths) }
    public mutating func insert(_ path: ManagedFieldPath) { paths.insert(path) }

    /// Compact JSON with sorted keys, as keys in `fieldsV1` are written.
    static func compact(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return BadValue.goQuote(s)
        case .array(let items): return "[" + items.map(compact).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.sorted { $0.key < $1.key }.map { BadValue.goQuote($0.key) + ":" + compact($0.value) }.joined(separator: ",") + "}"
        }
    }
}
