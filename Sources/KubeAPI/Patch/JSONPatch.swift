/// RFC 6902 JSON patch (`application/json-patch+json`, `kubectl patch --type=json`): a list of operations on
/// JSON pointers (RFC 6901).
public enum JSONPatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) throws(PatchError) -> JSONValue {
        guard case .array(let operations) = patch else {
            throw PatchError(malformed: true, "a JSON patch must be an array of operations")
        }
        var document = target
        for (i, operation) in operations.enumerated() {
            guard case .object(let op) = operation, let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw PatchError(malformed: true, "operation \(i) needs \"op\" and \"path\"")
            }
            let pointer = try parsePointer(path)
            switch name {
            case "add":
                document = try add(try value(op, i), at: pointer, in: document)
            case "remove":
                _ = try get(pointer, in: document)
                document = try remove(pointer, in: document)
            case "replace":
                _ = try get(pointer, in: document)
                document = try set(try value(op, i), at: pointer, in: document)
            case "move":
                let from = try parsePointer(try fromPath(op, i))
                let moved = try get(from, in: document)
                document = try add(moved, at: pointer, in: try remove(from, in: document))
            case "copy":
                let from = try parsePointer(try fromPath(op, i))
                document = try add(try get(from, in: document), at: pointer, in: document)
            case "test":
                let actual = try get(pointer, in: document)
                if actual != (try value(op, i)) {
                    throw PatchError("testing value \(path) failed: the value is not equal to the expected one")
                }
            default:
                throw PatchError(malformed: true, "unknown operation \"\(name)\" in operation \(i)")
            }
        }
        return document
    }

    private static func value(_ op: [String: JSONValue], _ i: Int) throws(PatchError) -> JSONValue {
        guard let v = op["value"] else { throw PatchError(malformed: true, "operation \(i) needs a \"value\"") }
        return v
    }

    private static func fromPath(_ op: [String: JSONValue], _ i: Int) throws(PatchError) -> String {
        guard let from = op["from"]?.stringValue else { throw PatchError(malformed: true, "operation \(i) needs a \"from\"") }
        return from
    }

    static func parsePointer(_ text: String) throws(PatchError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw PatchError(malformed: true, "invalid JSON pointer \"\(text)\"") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ pointer: [String], in document: JSONValue) throws(PatchError) -> JSONValue {
        var current = document
        for token in pointer {
            switch current {
            case .object(let members):
                guard let next = members[token] else { throw PatchError("path /\(pointer.joined(separator: "/")) does not exist") }
                current = next
            case .array(let items):
                guard let i = Int(token), items.indices.contains(i) else {
                    throw PatchError("path /\(pointer.joined(separator: "/")) does not exist")
                }
                current = items[i]
            default:
                throw PatchError("path /\(pointer.joined(separator: "/")) does not exist")
            }
        }
        return current
    }

    private enum Edit { case add, set, remove }

    private static func edit(_ edit: Edit, _ value: JSONValue?, at pointer: [String], in document: JSONValue) throws(PatchError) -> JSONValue {
        guard let token = pointer.first else {
            if edit == .remove { throw PatchError("cannot remove the whole document") }
            return value!
        }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                switch edit {
                case .remove:
                    guard members.removeValue(forKey: token) != nil else { throw PatchError("path /\(token) does not exist") }
                case .add, .set:
                    members[token] = value!
                }
                return .object(members)
            }
            guard let child = members[token] else { throw PatchError("path /\(pointer.joined(separator: "/")) does not exist") }
            members[token] = try Self.edit(edit, value, at: rest, in: child)
            return .object(members)
        case .array(var items):
            if rest.isEmpty {
                if token == "-" && edit == .add {
                    items.append(value!)
                    return .array(items)
                }
                guard let i = Int(token), i >= 0 else { throw PatchError("invalid array index \"\(token)\"") }
                switch edit {
                case .add:
                    guard i <= items.count else { throw PatchError("array index \(i) is out of range") }
                    items.insert(value!, at: i)
                case .set:
                    guard items.indices.contains(i) else { throw PatchError("array index \(i) is out of range") }
                    items[i] = value!
                case .remove:
                    guard items.indices.contains(i) else { throw PatchError("array index \(i) is out of range") }
                    items.remove(at: i)
                }
                return .array(items)
            }
            guard let i = Int(token), items.indices.contains(i) else { throw PatchError("array index \"\(token)\" is out of range") }
            items[i] = try Self.edit(edit, value, at: rest, in: items[i])
            return .array(items)
        default:
            throw PatchError("path /\(pointer.joined(separator: "/")) does not exist")
        }
    }

    private static func add(_ value: JSONValue, at pointer: [String], in document: JSONValue) throws(PatchError) -> JSONValue {
        try edit(.add, value, at: pointer, in: document)
    }

    private static func set(_ value: JSONValue, at pointer: [String], in document: JSONValue) throws(PatchError) -> JSONValue {
        try edit(.set, value, at: pointer, in: document)
    }

    private static func remove(_ pointer: [String], in document: JSONValue) throws(PatchError) -> JSONValue {
        try edit(.remove, nil, at: pointer, in: document)
    }
}
