import KubeAPI

/// Reading and writing manifests: YAML or JSON, one or many documents, `kind: List` expanded.
public enum Manifest {
    /// How to treat fields no known type has (the API server's `fieldValidation`).
    public enum FieldValidation: Sendable {
        /// Reject the document, naming every unknown field.
        case strict
        /// Accept, dropping unknown fields.
        case ignore
    }

    /// Decodes every object of a YAML or JSON stream.
    public static func objects(from text: String, fieldValidation: FieldValidation = .strict) throws(ManifestError) -> [AnyAPIObject] {
        var out: [AnyAPIObject] = []
        for (i, document) in try YAMLValue.documents(text).enumerated() {
            var items = [document]
            if document["kind"]?.stringValue == "List", let listItems = document["items"]?.arrayValue {
                items = listItems
            }
            for item in items {
                let decoded: Decoded<AnyAPIObject>
                do {
                    decoded = try AnyAPIObject.decode(item)
                } catch {
                    throw ManifestError(document: i + 1, message: error.message)
                }
                if fieldValidation == .strict && !decoded.unknownFields.isEmpty {
                    let kind = item["kind"]?.stringValue ?? ""
                    let fields = decoded.unknownFields.map { "unknown field \(BadValue.goQuote($0))" }.joined(separator: ", ")
                    throw ManifestError(
                        document: i + 1,
                        message: "\(kind) in version \(BadValue.goQuote(item["apiVersion"]?.stringValue ?? "")) cannot be handled as a \(kind): strict decoding error: \(fields)")
                }
                out.append(decoded.value)
            }
        }
        return out
    }

    /// YAML of one object, as `kubectl get -o yaml` prints it (members sorted by name).
    public static func yaml<T: Encodable>(_ value: T) throws -> String {
        try YAMLValue.text(of: KubeJSON.value(of: value))
    }

    /// YAML of several objects, separated by `---`.
    public static func yaml(_ objects: [AnyAPIObject]) throws -> String {
        try YAMLValue.text(ofDocuments: objects.map { try KubeJSON.value(of: $0.object) })
    }
}

extension AnyAPIObject {
    /// Encodes the wrapped object (an existential cannot be passed to a generic encoder directly).
    func encodedValue() throws -> JSONValue { try KubeJSON.value(of: object) }
}
