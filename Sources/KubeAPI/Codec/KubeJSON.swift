#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A decoded value and the object members that no field of its type knows.
public struct Decoded<Value> {
    public var value: Value
    /// Field paths such as `spec.ports[0].foo`, sorted. Empty when the input had only known fields.
    public var unknownFields: [String]
    /// Members that appeared twice in one object (the last one counts, as in Go).
    public var duplicateFields: [String]

    public init(value: Value, unknownFields: [String], duplicateFields: [String] = []) {
        self.value = value
        self.unknownFields = unknownFields
        self.duplicateFields = duplicateFields
    }

    /// Go's strict-decoding complaints, `unknown field "spec.foo"` and `duplicate field "spec.type"`, in that order.
    public var strictErrors: [String] {
        duplicateFields.map { "duplicate field \(BadValue.goQuote($0))" } + unknownFields.map { "unknown field \(BadValue.goQuote($0))" }
    }
}

extension Decoded: Sendable where Value: Sendable {}

/// Why bytes could not become an object. The description names the field and what was wrong with it.
public struct ObjectDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Field path of the offending value (`spec.ports[0].port`), empty for the document itself.
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }

    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            self.init(field: ObjectDecoder.render(c.codingPath), reason: c.debugDescription)
        case .keyNotFound(let key, let c):
            self.init(field: ObjectDecoder.render(c.codingPath + [key]), reason: "required field is missing")
        @unknown default:
            self.init(field: "", reason: "\(error)")
        }
    }
}

/// JSON in and out of Kubernetes objects.
public enum KubeJSON {
    /// Parses a JSON document into a value tree (strict RFC 8259, as Go's `encoding/json`).
    public static func parse(_ data: Data) throws(ObjectDecodingError) -> JSONValue {
        try parseReportingDuplicates(data).value
    }

    /// Parses a JSON document and lists members that appear twice in one object (`spec.type`), which strict
    /// field validation rejects as `duplicate field`.
    public static func parseReportingDuplicates(_ data: Data) throws(ObjectDecodingError) -> (value: JSONValue, duplicates: [String]) {
        do {
            return try JSONParser.parse([UInt8](data))
        } catch {
            throw ObjectDecodingError(field: "", reason: "invalid JSON at offset \(error.offset): \(error.reason)")
        }
    }

    /// Decodes a typed object from a value tree, reporting unknown fields instead of failing on them.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(ObjectDecodingError) -> Decoded<T> {
        let tracker = ObjectDecoder.Tracker()
        do {
            let v = try ObjectDecoder(value: value, codingPath: [], tracker: tracker).decodeValue(T.self)
            return Decoded(value: v, unknownFields: tracker.unknownFields)
        } catch let error as DecodingError {
            throw ObjectDecodingError(error)
        } catch let error as ObjectDecodingError {
            throw error
        } catch {
            throw ObjectDecodingError(field: "", reason: "\(error)")
        }
    }

    /// Decodes a typed object from JSON bytes, reporting unknown and duplicate fields instead of failing on them.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(ObjectDecodingError) -> Decoded<T> {
        let (value, duplicates) = try parseReportingDuplicates(data)
        var decoded = try decode(type, from: value)
        decoded.duplicateFields = duplicates
        return decoded
    }

    /// Parses JSON bytes into a value tree.
    public static func parse<Bytes: Collection<UInt8>>(bytes: Bytes) throws(ObjectDecodingError) -> JSONValue {
        do {
            return try JSONParser.parse([UInt8](bytes)).value
        } catch {
            throw ObjectDecodingError(field: "", reason: "invalid JSON at offset \(error.offset): \(error.reason)")
        }
    }

    /// Decodes a typed object from JSON bytes, reporting unknown and duplicate fields.
    public static func decode<T: Decodable, Bytes: Collection<UInt8>>(_ type: T.Type, bytes: Bytes) throws(ObjectDecodingError) -> Decoded<T> {
        let parsed: (value: JSONValue, duplicates: [String])
        do {
            parsed = try JSONParser.parse([UInt8](bytes))
        } catch {
            throw ObjectDecodingError(field: "", reason: "invalid JSON at offset \(error.offset): \(error.reason)")
        }
        var decoded = try decode(type, from: parsed.value)
        decoded.duplicateFields = parsed.duplicates
        return decoded
    }

    /// Compact JSON, members in declaration order.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Indented JSON with sorted members, for people and golden files.
    public static func encodePretty<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }

    /// The value tree of an encodable value.
    public static func value<T: Encodable>(of value: T) throws -> JSONValue {
        try parse(encode(value))
    }
}
