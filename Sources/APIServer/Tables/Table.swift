import KubeAPI

/// Server-side printing (`meta.k8s.io/v1 Table`): the columns `kubectl get` shows, computed by the server.
struct Table: Sendable {
    struct Column: Sendable {
        var name: String
        var type: String = "string"
        var format: String = ""
        var description: String
        var priority: Int = 0
    }

    var columns: [Column]
    var rows: [(cells: [JSONValue], metadata: ObjectMeta)]

    /// The Table object, with `columnDefinitions` omitted when `includeColumns` is false (watch events after
    /// the first, as upstream sends them).
    func value(resourceVersion: Int64, continueToken: String? = nil, includeColumns: Bool = true) -> JSONValue {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(resourceVersion))]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        let columnValues: [JSONValue] = includeColumns ? columns.map { c in
            .object([
                "name": .string(c.name), "type": .string(c.type), "format": .string(c.format),
                "description": .string(c.description), "priority": .int(Int64(c.priority)),
            ])
        } : []
        let rowValues: [JSONValue] = rows.map { row in
            var meta = (try? KubeJSON.value(of: row.metadata)) ?? .object([:])
            meta["managedFields"] = nil
            return .object([
                "cells": .array(row.cells),
                "object": .object(["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta]),
            ])
        }
        return .object([
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "columnDefinitions": .array(columnValues), "rows": .array(rowValues),
        ])
    }

    static let nameColumn = Column(
        name: "Name", format: "name",
        description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
    static let ageColumn = Column(
        name: "Age",
        description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.")

    /// `kubectl`'s short human durations: `5s`, `3m2s`, `4h`, `12d` (apimachinery `HumanDuration`).
    static func age(of time: Time?, now: Time = .now()) -> String {
        guard let time else { return "<unknown>" }
        let seconds = now.seconds - time.seconds
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let s = seconds % 60
            return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s"
        }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 {
            let m = minutes % 60
            return m == 0 ? "\(hours)h" : "\(hours)h\(m)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let h = hours % 24
            return h == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(h)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        let years = hours / 24 / 365
        if years < 8 {
            let d = (hours / 24) % 365
            return d == 0 ? "\(years)y" : "\(years)y\(d)d"
        }
        return "\(years)y"
    }

    /// Up to three items, then ` + N more...` (EndpointSlice and Endpoints columns).
    static func firstThree(_ items: [String], empty: String) -> String {
        guard !items.isEmpty else { return empty }
        let shown = items.prefix(3).joined(separator: ",")
        return items.count > 3 ? "\(shown) + \(items.count - 3) more..." : shown
    }
}
