import Foundation
import KubeAPI
import Testing

func json(_ text: String) throws -> JSONValue { try KubeJSON.parse(Data(text.utf8)) }

@Suite struct JSONMergePatchTests {
    @Test func rfc7386Examples() throws {
        let target = try json(#"{"a":"b","c":{"d":"e","f":"g"},"list":[1,2]}"#)
        let patch = try json(#"{"a":"z","c":{"f":null},"list":[3],"new":{"x":1}}"#)
        #expect(JSONMergePatch.apply(patch, to: target) == (try json(#"{"a":"z","c":{"d":"e"},"list":[3],"new":{"x":1}}"#)))
        #expect(JSONMergePatch.apply(try json(#"{"metadata":{"labels":{"app":null}}}"#), to: try json(#"{"metadata":{"labels":{"app":"web","x":"y"}}}"#))
            == (try json(#"{"metadata":{"labels":{"x":"y"}}}"#)))
        #expect(JSONMergePatch.apply(.string("x"), to: target) == .string("x"))
    }
}

@Suite struct JSONPatchTests {
    @Test func operations() throws {
        let doc = try json(#"{"spec":{"ports":[{"port":80},{"port":443}],"selector":{"app":"web"}}}"#)
        let patch = try json(#"""
            [{"op":"replace","path":"/spec/ports/0/port","value":8080},
             {"op":"add","path":"/spec/ports/-","value":{"port":9000}},
             {"op":"remove","path":"/spec/selector/app"},
             {"op":"add","path":"/spec/selector/tier","value":"fe"},
             {"op":"copy","from":"/spec/ports/1","path":"/spec/ports/0"},
             {"op":"move","from":"/spec/selector/tier","path":"/spec/tier"},
             {"op":"test","path":"/spec/tier","value":"fe"}]
            """#)
        #expect(try JSONPatch.apply(patch, to: doc) == (try json(#"{"spec":{"ports":[{"port":443},{"port":8080},{"port":443},{"port":9000}],"selector":{},"tier":"fe"}}"#)))
    }

    @Test func failures() throws {
        let doc = try json(#"{"a":{"b":1}}"#)
        #expect(throws: PatchError.self) { try JSONPatch.apply(try json(#"[{"op":"remove","path":"/a/c"}]"#), to: doc) }
        #expect(throws: PatchError.self) { try JSONPatch.apply(try json(#"[{"op":"test","path":"/a/b","value":2}]"#), to: doc) }
        #expect(throws: PatchError(malformed: true, "unknown operation \"frob\" in operation 0")) {
            try JSONPatch.apply(try json(#"[{"op":"frob","path":"/a"}]"#), to: doc)
        }
        #expect(throws: PatchError.self) { try JSONPatch.apply(try json(#"{"op":"add"}"#), to: doc) }
        #expect(try JSONPatch.apply(try json(#"[{"op":"add","path":"/a~1b","value":1}]"#), to: doc)["a/b"] == 1)
    }
}

@Suite struct StrategicMergePatchTests {
    /// The patch `kubectl apply` sends when a Service's targetPort changes keeps the port's name and protocol.
    @Test func kubectlApplyPatchMergesPortsByPort() throws {
        let live = try json(#"{"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080},{"name":"https","port":443,"protocol":"TCP","targetPort":8443}],"clusterIP":"10.96.0.10"}}"#)
        let patch = try json(#"{"spec":{"$setElementOrder/ports":[{"port":80},{"port":443}],"ports":[{"port":80,"targetPort":9090}]}}"#)
        let merged = try StrategicMergePatch.apply(patch, to: live, schema: .service)
        #expect(merged == (try json(#"{"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":9090},{"name":"https","port":443,"protocol":"TCP","targetPort":8443}],"clusterIP":"10.96.0.10"}}"#)))
    }

    @Test func deleteDirectiveAndOrder() throws {
        let live = try json(#"{"spec":{"ports":[{"port":80},{"port":443},{"port":9000}]}}"#)
        let patch = try json(#"{"spec":{"$setElementOrder/ports":[{"port":9000},{"port":80}],"ports":[{"port":443,"$patch":"delete"}]}}"#)
        #expect(try StrategicMergePatch.apply(patch, to: live, schema: .service) == (try json(#"{"spec":{"ports":[{"port":9000},{"port":80}]}}"#)))
    }

    @Test func containersMergeByNameAndNested() throws {
        let live = try json(#"{"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"A","value":"1"}]},{"name":"b","image":"y"}]}}"#)
        let patch = try json(#"{"spec":{"containers":[{"name":"a","env":[{"name":"B","value":"2"}]},{"name":"c","image":"z"}]}}"#)
        let merged = try StrategicMergePatch.apply(patch, to: live, schema: .pod)
        #expect(merged == (try json(#"{"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"b","image":"y"},{"name":"c","image":"z"}]}}"#)))
    }

    @Test func conditionsMergeByType() throws {
        let live = try json(#"{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}]}}"#)
        let patch = try json(#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#)
        #expect(try StrategicMergePatch.apply(patch, to: live, schema: .pod) == (try json(#"{"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}]}}"#)))
    }

    @Test func listsWithoutStrategyAreReplacedAndNullDeletes() throws {
        let live = try json(#"{"spec":{"externalIPs":["1.1.1.1"],"selector":{"app":"web","tier":"fe"}},"metadata":{"finalizers":["a"]}}"#)
        let patch = try json(#"{"spec":{"externalIPs":["2.2.2.2"],"selector":{"tier":null}},"metadata":{"finalizers":["b"],"$deleteFromPrimitiveList/finalizers":["a"]}}"#)
        #expect(try StrategicMergePatch.apply(patch, to: live, schema: .service) == (try json(#"{"spec":{"externalIPs":["2.2.2.2"],"selector":{"app":"web"}},"metadata":{"finalizers":["b"]}}"#)))
    }

    @Test func replaceAndRetainKeys() throws {
        let live = try json(#"{"spec":{"selector":{"a":"1","b":"2"},"type":"ClusterIP"}}"#)
        #expect(try StrategicMergePatch.apply(try json(#"{"spec":{"selector":{"$patch":"replace","c":"3"}}}"#), to: live, schema: .service)
            == (try json(#"{"spec":{"selector":{"c":"3"},"type":"ClusterIP"}}"#)))
        #expect(try StrategicMergePatch.apply(try json(#"{"spec":{"$retainKeys":["selector"],"selector":{"d":"4"}}}"#), to: live, schema: .service)
            == (try json(#"{"spec":{"selector":{"a":"1","b":"2","d":"4"}}}"#)))
        #expect(throws: PatchError.self) { try StrategicMergePatch.apply(try json(#"{"spec":{"$patch":"frob"}}"#), to: live, schema: .service) }
        #expect(throws: PatchError.self) { try StrategicMergePatch.apply(try json(#"[1]"#), to: live, schema: .service) }
    }
}
