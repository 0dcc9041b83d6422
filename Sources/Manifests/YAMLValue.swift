import KubeAPI
import Yams

/// YAML to and from `JSONValue`, with the typing rules Kubernetes uses (YAML 1.1 scalars, as sigs.k8s.io/yaml).
///
/// Manifests go YAML → JSON value → typed object, so YAML and JSON input are decoded by the same code and
/// report unknown fields the same way.
public enum YAMLValue {
    /// Every non-empty document of a YAML (or JSON) stream.
    public static func documents(_ text: String) throws(ManifestError) -> [JSONValue] {
        var out: [JSONValue] = []
        do {
            var documents = try Yams.compose_all(yaml: text)
            while let node = documents.next() {
                out.append(try value(of: node, document: out.count + 1))
            }
            // The sequence ends early on a parse error and keeps it instead of throwing it.
            if let error = documents.error { throw error }
        } catch let error as ManifestError {
            throw error
        } catch let error as YamlError {
            throw ManifestError(document: out.count + 1, message: "invalid YAML: \(describe(error))")
        } catch {
            throw ManifestError(document: out.count + 1, message: "invalid YAML: \(error)")
        }
        return out.filter { $0 != .null }
    }

    static func value(of node: Yams.Node, document: Int) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar)
        case .sequence(let sequence):
            return .array(try sequence.map { try value(of: $0, document: document) })
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            var merged: [String: JSONValue] = [:]
            for (key, child) in mapping {
                if Resolver.default.resolveTag(of: key) == .merge {
                    let sources: [Yams.Node]
                    if case .sequence(let s) = child { sources = Array(s) } else { sources = [child] }
                    for source in sources {
                        guard case .object(let m) = try value(of: source, document: document) else {
                            throw ManifestError(document: document, message: "line \(line(key)): a merge key (<<) must refer to a mapping")
                        }
                        merged.merge(m) { first, _ in first }
                    }
                    continue
                }
                guard case .scalar(let k) = key else {
                    throw ManifestError(document: document, message: "line \(line(key)): a mapping key must be a scalar")
                }
                if members[k.string] != nil {
                    throw ManifestError(document: document, message: "line \(line(key)): key \(BadValue.goQuote(k.string)) already set in map")
                }
                members[k.string] = try value(of: child, document: document)
            }
            return .object(members.merging(merged) { own, _ in own })
        case .alias:
            throw ManifestError(document: document, message: "line \(line(node)): YAML aliases are not supported")
        }
    }

    static func scalarValue(_ scalar: Yams.Node.Scalar) -> JSONValue {
        let node = Yams.Node.scalar(scalar)
        switch Resolver.default.resolveTag(of: node) {
        case .null: return .null
        case .bool: return node.bool.map { .bool($0) } ?? .string(scalar.string)
        case .int:
            if let i = node.int { return .int(Int64(i)) }
            return node.float.map { .double($0) } ?? .string(scalar.string)
        case .float: return node.float.map { .double($0) } ?? .string(scalar.string)
        default: return .string(scalar.string)
        }
    }

    private static func line(_ node: Yams.Node) -> String { node.mark.map { "\($0.line)" } ?? "?" }

    private static func describe(_ error: YamlError) -> String {
        "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
    }

    /// YAML text of a value: members sorted by name, strings that would read back as another type quoted.
    public static func text(of value: JSONValue) throws -> String {
        try Yams.serialize(node: node(of: value), indent: 2, width: -1, allowUnicode: true, sortKeys: true)
    }

    /// YAML text of several documents, separated by `---`.
    public static func text(ofDocuments values: [JSONValue]) throws -> String {
        try values.map(text(of:)).joined(separator: "---\n")
    }

    static func node(of value: JSONValue) -> Yams.Node {
        switch value {
        case .null: return Yams.Node("null", Tag(.null))
        case .bool(let b): return Yams.Node(b ? "true" : "false", Tag(.bool))
        case .int(let i): return Yams.Node(String(i), Tag(.int))
        case .double(let d): return Yams.Node(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d), Tag(.float))
        case .string(let s): return .scalar(s.represented())
        case .array(let a): return Yams.Node(a.map(node(of:)), Tag(.seq))
        case .object(let o):
            return Yams.Node(o.keys.sorted().map { (Yams.Node.scalar($0.represented()), node(of: o[$0]!)) }, Tag(.map))
        }
    }
}
