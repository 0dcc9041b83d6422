import Foundation
import IPAM
import KubeAPI
import Testing

/// `KubeJSON` and the tree decoder: real objects, unknown fields, type errors, round trips.
@Suite struct CodecTests {
    @Test func decodesARealService() throws {
        let decoded = try KubeJSON.decode(Service.self, from: data(Fixtures.serviceThreePorts))
        #expect(decoded.unknownFields == [])
        let svc = decoded.value
        #expect(svc.apiVersion == "v1")
        #expect(svc.kind == "Service")
        #expect(svc.name == "web")
        #expect(svc.namespace == "default")
        #expect(svc.metadata.uid == "6f1c5b0e-8f9a-4e0b-9a3b-1c2d3e4f5a6b")
        #expect(svc.metadata.creationTimestamp == Time(seconds: 1_714_564_800))
        #expect(svc.metadata.managedFields?.count == 1)
        #expect(svc.metadata.managedFields?.first?["manager"] == "kubectl-client-side-apply")
        #expect(svc.labels == ["app": "web", "app.kubernetes.io/part-of": "shop"])
        #expect(svc.type == .clusterIP)
        #expect(svc.spec.ipFamilies == [.ipv4])
        #expect(svc.spec.ipFamilyPolicy == .singleStack)
        #expect(svc.ports.map(\.name) == ["http", "https", "dns"])
        #expect(svc.ports.map(\.targetPort) == [.int(8080), .string("https"), .int(53)])
        #expect(svc.ports.map(\.protocol) == [.tcp, .tcp, .udp])
        #expect(svc.ports[1].appProtocol == "https")
        #expect(svc.selector == ["app": "web"])
        #expect(svc.clusterIPAddresses == [IPAddress("10.96.0.10")!])
        #expect(messages(svc.validate()) == [])
    }

    @Test func decodesARealPod() throws {
        let decoded = try KubeJSON.decode(Pod.self, from: data(Fixtures.podWithProbes))
        #expect(decoded.unknownFields == [])
        let pod = decoded.value
        let c = try #require(pod.spec.containers?.first)
        #expect(c.readinessProbe?.httpGet?.port == .string("http"))
        #expect(c.readinessProbe?.httpGet?.httpHeaders?.first?.name == "X-Probe")
        #expect(c.livenessProbe?.tcpSocket?.port == .int(8080))
        #expect(c.livenessProbe?.terminationGracePeriodSeconds == 10)
        #expect(c.startupProbe?.exec?.command == ["cat", "/tmp/ready"])
        #expect(c.env?[1].valueFrom?["fieldRef"]?["fieldPath"] == "status.podIP")
        #expect(c.resources?["limits"]?["cpu"] == "500m")
        #expect(pod.status.phase == .running)
        #expect(pod.ips == ["10.244.1.5"])
        #expect(pod.isReady)
        #expect(pod.status.containerStatuses?.first?.state?.running?.startedAt == Time(seconds: 1_714_564_801))
        #expect(messages(pod.validate()) == [])
    }

    @Test func decodesLoadBalancerServiceAndList() throws {
        let svc = try KubeJSON.decode(Service.self, from: data(Fixtures.loadBalancer))
        #expect(svc.unknownFields == [])
        #expect(svc.value.spec.healthCheckNodePort == 31000)
        #expect(svc.value.status.loadBalancer?.ingress?.first?.ipMode == "VIP")
        #expect(svc.value.status.conditions?.first?.status == .true)
        #expect(messages(svc.value.validate()) == [])

        let list = "{\"apiVersion\":\"v1\",\"kind\":\"ServiceList\",\"metadata\":{\"resourceVersion\":\"99\",\"continue\":\"abc\"},\"items\":[\(Fixtures.externalName),\(Fixtures.dualStackHeadless)]}"
        let decoded = try KubeJSON.decode(ObjectList<Service>.self, from: data(list))
        #expect(decoded.unknownFields == [])
        #expect(decoded.value.items.map(\.name) == ["ext", "db"])
        #expect(decoded.value.metadata.`continue` == "abc")
        #expect(decoded.value.metadata.resourceVersion == "99")
    }

    // MARK: Unknown fields

    @Test func unknownFieldsAreReportedWithFullPaths() throws {
        let json = """
            {"apiVersion":"v1","kind":"Service","extra":1,
             "metadata":{"name":"web","bar":{"deep":true}},
             "spec":{"foo":{"x":1},"ports":[{"port":80,"foo":"y"},{"port":81}],"selector":{"anything":"goes"}},
             "status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4","bogus":1}]}}}
            """
        let decoded = try KubeJSON.decode(Service.self, from: data(json))
        #expect(decoded.unknownFields == [
            "extra", "metadata.bar", "spec.foo", "spec.ports[0].foo", "status.loadBalancer.ingress[0].bogus",
        ])
        #expect(decoded.value.ports.map(\.port) == [80, 81])
    }

    @Test func opaqueFieldsNeverReportUnknownMembers() throws {
        // managedFields, pod `resources` (with an unknown-looking `claims[0].unknownToUs`), env `valueFrom`,
        // volumes and tolerations are kept verbatim.
        #expect(try KubeJSON.decode(Service.self, from: data(Fixtures.serviceThreePorts)).unknownFields == [])
        #expect(try KubeJSON.decode(Pod.self, from: data(Fixtures.podWithProbes)).unknownFields == [])
        let json = #"{"metadata":{"managedFields":[{"whatever":{"nested":{"x":1}}}]},"spec":{"containers":[{"name":"a","resources":{"foo":{"bar":1}},"lifecycle":{"x":{}}}]}}"#
        #expect(try KubeJSON.decode(Pod.self, from: data(json)).unknownFields == [])
    }

    @Test func unknownFieldInsidePodContainer() throws {
        let json = #"{"spec":{"containers":[{"name":"a","imagePullPolicyy":"Always","ports":[{"containerPort":80,"hostPortt":1}]}]}}"#
        #expect(try KubeJSON.decode(Pod.self, from: data(json)).unknownFields == [
            "spec.containers[0].imagePullPolicyy", "spec.containers[0].ports[0].hostPortt",
        ])
    }

    @Test func nullMembersDecodeAsAbsent() throws {
        let json = #"{"metadata":{"name":"web","labels":null},"spec":{"clusterIP":null,"ports":[{"port":80,"targetPort":null}]}}"#
        let decoded = try KubeJSON.decode(Service.self, from: data(json))
        #expect(decoded.unknownFields == [])
        #expect(decoded.value.metadata.labels == nil)
        #expect(decoded.value.spec.clusterIP == nil)
        #expect(decoded.value.ports.first?.targetPort == nil)
        let cond = #"{"status":{"conditions":[{"type":"Ready","status":"True","lastProbeTime":null}]}}"#
        #expect(try KubeJSON.decode(Pod.self, from: data(cond)).value.status.conditions?.first?.lastProbeTime == nil)
    }

    @Test func missingPortDecodesAsZeroLikeGo() throws {
        let decoded = try KubeJSON.decode(Service.self, from: data(#"{"spec":{"ports":[{"name":"x"}]}}"#))
        #expect(decoded.value.ports.first?.port == 0)
    }

    // MARK: Type errors

    @Test(arguments: [
        (#"{"spec":{"ports":[{"port":"http"}]}}"#, "spec.ports[0].port", #"spec.ports[0].port: expected an integer, found string "http""#),
        (#"{"spec":{"ports":[{"port":80.5}]}}"#, "spec.ports[0].port", "spec.ports[0].port: expected an integer, found number 80.5"),
        (#"{"spec":{"ports":[{"port":80},{"port":true}]}}"#, "spec.ports[1].port", "spec.ports[1].port: expected an integer, found boolean true"),
        (#"{"spec":{"ports":{}}}"#, "spec.ports", "spec.ports: expected an array, found object"),
        (#"{"spec":{"ipFamilies":"IPv4"}}"#, "spec.ipFamilies", #"spec.ipFamilies: expected an array, found string "IPv4""#),
        (#"{"metadata":[]}"#, "metadata", "metadata: expected an object, found array"),
        (#"{"metadata":{"labels":{"app":1}}}"#, "metadata.labels.app", "metadata.labels.app: expected a string, found number 1"),
        (#"{"spec":{"publishNotReadyAddresses":"yes"}}"#, "spec.publishNotReadyAddresses", #"spec.publishNotReadyAddresses: expected a boolean, found string "yes""#),
        (#"{"spec":{"type":5}}"#, "spec.type", "spec.type: expected a string, found number 5"),
        (#"{"spec":{"clusterIPs":["10.0.0.1",null]}}"#, "spec.clusterIPs[1]", "spec.clusterIPs[1]: expected a string, found null"),
        (#"{"spec":{"ports":[{"port":80,"targetPort":true}]}}"#, "spec.ports[0].targetPort", "spec.ports[0].targetPort: expected an integer or a string"),
        (#"{"metadata":{"creationTimestamp":"yesterday"}}"#, "metadata.creationTimestamp", #"metadata.creationTimestamp: "yesterday" is not an RFC 3339 time such as 2024-05-01T12:00:00Z"#),
        (#"[]"#, "", "expected an object, found array"),
        (#""svc""#, "", #"expected an object, found string "svc""#),
    ])
    func typeMismatchNamesTheField(_ json: String, _ field: String, _ description: String) throws {
        let error = try #require(decodingError(Service.self, json))
        #expect(error.field == field)
        #expect(error.description == description)
    }

    @Test func int32Overflow() throws {
        let error = try #require(decodingError(Service.self, #"{"spec":{"ports":[{"port":2147483648}]}}"#))
        #expect(error.field == "spec.ports[0].port")
        #expect(error.description.contains("2147483648"))
        let negative = try #require(decodingError(Service.self, #"{"spec":{"ports":[{"port":80,"nodePort":-2147483649}]}}"#))
        #expect(negative.field == "spec.ports[0].nodePort")
        #expect(try KubeJSON.decode(Service.self, from: data(#"{"spec":{"ports":[{"port":2147483647}]}}"#)).value.ports[0].port == .max)
    }

    @Test func int64Fields() throws {
        let json = #"{"metadata":{"generation":9007199254740993},"spec":{"containers":[{"name":"a"}],"activeDeadlineSeconds":4294967296}}"#
        let pod = try KubeJSON.decode(Pod.self, from: data(json)).value
        #expect(pod.metadata.generation == 9_007_199_254_740_993)
        #expect(pod.spec.activeDeadlineSeconds == 4_294_967_296)
    }

    @Test(arguments: [
        (#"{"metadata":{"ownerReferences":[{"kind":"X","name":"n","uid":"u"}]}}"#, "metadata.ownerReferences[0].apiVersion"),
        (#"{"status":{"podIPs":[{}]}}"#, "status.podIPs[0].ip"),
        (#"{"spec":{"containers":[{"name":"a","livenessProbe":{"httpGet":{"path":"/"}}}]}}"#, "spec.containers[0].livenessProbe.httpGet.port"),
        (#"{"status":{"conditions":[{"type":"Ready"}]}}"#, "status.conditions[0].status"),
    ])
    func missingRequiredFieldsAreNamed(_ json: String, _ field: String) throws {
        let error = try #require(decodingError(Pod.self, json))
        #expect(error.field == field)
        #expect(error.description == "\(field): required field is missing")
    }

    @Test func watchEventWithoutType() throws {
        let error = try #require(decodingError(WatchEvent<Service>.self, #"{"object":{}}"#))
        #expect(error.description == "type: required field is missing")
    }

    @Test(arguments: ["", "{", "{\"a\":}", "nul", "{\"a\":1}}", "\u{FF}\u{FE}", "{'a':1}", "{a:1}", "[01]", "{\"a\":NaN}", "{} {}"])
    func invalidJSON(_ text: String) throws {
        let error = try #require(decodingError(Service.self, text))
        #expect(error.field == "")
        #expect(error.reason.hasPrefix("invalid JSON at offset "))
        #expect(error.description == error.reason)
    }

    /// Go's `encoding/json` (and so the API server) rejects trailing commas: `invalid character '}' looking for
    /// beginning of object key string`.
    @Test(arguments: [#"{"metadata":{"name":"web",}}"#, #"{"spec":{"clusterIPs":["10.0.0.1",]}}"#])
    func trailingCommasAreInvalidJSON(_ text: String) throws {
        let error = try #require(decodingError(Service.self, text))
        #expect(error.reason.hasPrefix("invalid JSON at offset "))
    }

    // MARK: IntOrString

    @Test func intOrStringDecodesBothForms() throws {
        #expect(try KubeJSON.decode(IntOrString.self, from: JSONValue.int(8080)).value == .int(8080))
        #expect(try KubeJSON.decode(IntOrString.self, from: JSONValue.string("http")).value == .string("http"))
        #expect(try KubeJSON.decode(IntOrString.self, from: JSONValue.string("8080")).value == .string("8080"))
        #expect(throws: ObjectDecodingError.self) { try KubeJSON.decode(IntOrString.self, from: JSONValue.bool(true)) }
        #expect(throws: ObjectDecodingError.self) { try KubeJSON.decode(IntOrString.self, from: JSONValue.int(1 << 40)) }
        #expect(throws: ObjectDecodingError.self) { try KubeJSON.decode(IntOrString.self, from: JSONValue.array([])) }
        // Through Foundation's decoder too.
        #expect(try JSONDecoder().decode([IntOrString].self, from: data(#"[1,"a"]"#)) == [.int(1), .string("a")])
    }

    @Test func intOrStringEncodesAndDescribes() throws {
        #expect(try KubeJSON.value(of: [IntOrString.int(80), .string("http")]) == [80, "http"])
        #expect(IntOrString.int(80).description == "80")
        #expect(IntOrString.string("http").description == "http")
        #expect(IntOrString.int(80).intValue == 80)
        #expect(IntOrString.int(80).stringValue == nil)
        #expect(IntOrString.string("x").stringValue == "x")
        #expect(IntOrString.int(0).isZero)
        #expect(IntOrString.string("").isZero)
        #expect(!IntOrString.string("0").isZero)
        let literal: IntOrString = 443
        #expect(literal == .int(443))
    }

    // MARK: JSONValue

    @Test func jsonValueBasics() throws {
        let value = try KubeJSON.parse(data(#"{"b":[1,2.5,"x",true,null],"a":{"c":{}}}"#))
        let expected: JSONValue = ["a": ["c": [:]], "b": [1, 2.5, "x", true, nil]]
        #expect(value == expected)
        #expect(value["a"]?["c"] == JSONValue.object([:]))
        #expect(value["missing"] == nil)
        #expect(value["b"]?["x"] == nil)
        #expect(value["b"]?.arrayValue?.count == 5)
        #expect(value["a"]?.objectValue?.keys.sorted() == ["c"])
        #expect(JSONValue.string("s").stringValue == "s")
        #expect([JSONValue.null, true, 1, 1.5, "s", [], [:]].map(\.typeName) == ["null", "boolean", "number", "number", "string", "array", "object"])
        var mutable = value
        mutable["a"] = 3
        #expect(mutable["a"] == 3)
        // Objects are unordered.
        #expect(try KubeJSON.parse(data(#"{"x":1,"y":2}"#)) == KubeJSON.parse(data(#"{"y":2,"x":1}"#)))
    }

    // MARK: Round trips

    @Test(arguments: [
        ("three ports", Fixtures.serviceThreePorts),
        ("dual-stack headless", Fixtures.dualStackHeadless),
        ("ExternalName", Fixtures.externalName),
        ("LoadBalancer", Fixtures.loadBalancer),
    ])
    func serviceRoundTripLosesNothing(_ name: String, _ json: String) throws {
        let first = try KubeJSON.decode(Service.self, from: data(json))
        #expect(first.unknownFields == [])
        let encoded = try KubeJSON.encode(first.value)
        let second = try KubeJSON.decode(Service.self, from: encoded)
        #expect(second.value == first.value)
        #expect(second.unknownFields == [])
        #expect(try KubeJSON.value(of: first.value) == KubeJSON.parse(data(json)))
        #expect(try KubeJSON.parse(KubeJSON.encodePretty(first.value)) == KubeJSON.parse(data(json)))
    }

    @Test func podRoundTripLosesNothing() throws {
        let first = try KubeJSON.decode(Pod.self, from: data(Fixtures.podWithProbes))
        let second = try KubeJSON.decode(Pod.self, from: KubeJSON.encode(first.value))
        #expect(second.value == first.value)
        #expect(try KubeJSON.value(of: first.value) == KubeJSON.parse(data(Fixtures.podWithProbes)))
    }

    @Test func encodePrettyIsSortedAndIndented() throws {
        let svc = Service(metadata: ObjectMeta(name: "web", namespace: "default"))
        let text = String(decoding: try KubeJSON.encodePretty(svc), as: UTF8.self)
        #expect(text.contains("\n"))
        let keys = ["apiVersion", "kind", "metadata", "spec", "status"].compactMap { text.range(of: "\"\($0)\"")?.lowerBound }
        #expect(keys.count == 5)
        #expect(keys == keys.sorted())
        #expect(!String(decoding: try KubeJSON.encode(Service(metadata: ObjectMeta(name: "a/b"))), as: UTF8.self).contains("\\/"))
    }

    @Test func withTypeMetaAndStaticNames() {
        var svc = Service(metadata: ObjectMeta(name: "web"))
        svc.apiVersion = nil
        svc.kind = nil
        let typed = svc.withTypeMeta()
        #expect(typed.apiVersion == "v1")
        #expect(typed.kind == "Service")
        #expect(Service.singularResource == "service")
        #expect(Service.qualifiedResource == "services")
        #expect(EndpointSlice.group == "discovery.k8s.io")
        #expect(EndpointSlice.version == "v1")
        #expect(EndpointSlice.qualifiedResource == "endpointslices.discovery.k8s.io")
        #expect(Endpoints.singularResource == "endpoints")
        #expect(Service.group == "")
    }

    // MARK: Watch events

    @Test func watchEventWithObject() throws {
        let json = #"{"type":"ADDED","object":\#(Fixtures.externalName)}"#
        let decoded = try KubeJSON.decode(WatchEvent<Service>.self, from: data(json))
        #expect(decoded.unknownFields == [])
        #expect(decoded.value.type == .added)
        #expect(decoded.value.object?.name == "ext")
        #expect(decoded.value.status == nil)
        #expect(try KubeJSON.value(of: decoded.value) == KubeJSON.parse(data(json)))
    }

    @Test func watchErrorEventCarriesAStatus() throws {
        let json = #"""
            {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}
            """#
        let decoded = try KubeJSON.decode(WatchEvent<Service>.self, from: data(json))
        #expect(decoded.unknownFields == [])
        #expect(decoded.value.type == .error)
        #expect(decoded.value.object == nil)
        let status = try #require(decoded.value.status)
        #expect(status.reason == .expired)
        #expect(status.code == 410)
        #expect(status.message == "too old resource version: 1 (5)")
        #expect(try KubeJSON.value(of: decoded.value) == KubeJSON.parse(data(json)))
    }

    @Test func encodedErrorEventHasTheStatusAsObject() throws {
        let event = WatchEvent<Service>(error: Status(message: "gone", reason: .gone, code: 410))
        let value = try KubeJSON.value(of: event)
        #expect(value["type"] == "ERROR")
        #expect(value["object"]?["kind"] == "Status")
        #expect(value["object"]?["code"] == 410)
        #expect(value["object"]?["reason"] == "Gone")
        let back = try KubeJSON.decode(WatchEvent<Service>.self, from: value).value
        #expect(back == event)
    }

    @Test func bookmarkEvent() throws {
        let json = #"{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}"#
        let decoded = try KubeJSON.decode(WatchEvent<Service>.self, from: data(json))
        #expect(decoded.value.type == .bookmark)
        #expect(decoded.value.object?.metadata.resourceVersion == "12")
    }

    @Test func errorEventWithNonStatusObjectFails() {
        #expect(decodingError(WatchEvent<Service>.self, #"{"type":"ERROR","object":"boom"}"#)?.field == "object")
        #expect(decodingError(WatchEvent<Service>.self, #"{"type":"ADDED"}"#)?.description == "object: required field is missing")
    }
}

/// `metav1.Time`: RFC 3339 in, whole-second UTC out.
@Suite struct TimeTests {
    @Test(arguments: [
        ("2024-05-01T12:00:00Z", Int64(1_714_564_800), Int32(0)),
        ("2024-05-01T14:00:00+02:00", 1_714_564_800, 0),
        ("2024-05-01T07:30:00-04:30", 1_714_564_800, 0),
        ("2024-05-01T12:00:00.5Z", 1_714_564_800, 500_000_000),
        ("2024-05-01T12:00:00.123456789Z", 1_714_564_800, 123_456_789),
        ("2024-05-01T12:00:00.000000001+00:00", 1_714_564_800, 1),
        ("1970-01-01T00:00:00Z", 0, 0),
        ("1969-12-31T23:59:59Z", -1, 0),
        ("2000-02-29T00:00:00Z", 951_782_400, 0),
        ("9999-12-31T23:59:59Z", 253_402_300_799, 0),
    ])
    func parses(_ text: String, _ seconds: Int64, _ nanos: Int32) throws {
        let t = try Time(rfc3339: text)
        #expect(t.seconds == seconds)
        #expect(t.nanoseconds == nanos)
    }

    @Test(arguments: [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5Z"),
        ("2024-05-01T12:00:00.120000Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.12Z"),
        ("2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789Z"),
        ("2024-05-01T12:00:00.000000001Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000000001Z"),
        ("2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("1969-12-31T23:59:59.25Z", "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.25Z"),
        ("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z", "2025-01-01T00:30:00Z"),
    ])
    func formats(_ text: String, _ rfc3339: String, _ nano: String) throws {
        let t = try Time(rfc3339: text)
        #expect(t.rfc3339 == rfc3339)
        #expect(t.description == rfc3339)
        #expect(t.rfc3339Nano == nano)
        #expect(try Time(rfc3339: t.rfc3339Nano) == t)
    }

    @Test(arguments: [
        "", "2024-05-01", "2024-05-01T12:00:00", "2024-05-01 12:00", "24-05-01T12:00:00Z", "2024-5-01T12:00:00Z",
        "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-05-32T00:00:00Z", "2024-05-00T00:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z", "2024-05-01T12:00:00.Z",
        "2024-05-01T12:00:00+0200", "2024-05-01T12:00:00+02", "2024-05-01T12:00:00+24:00", "2024-05-01T12:00:00Zjunk",
        "2024-05-01T12:00:00ZZ", " 2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z ", "２０２４-05-01T12:00:00Z", "yesterday",
        "2024-05-01T12:00:00.1234567890123456789012345Zx", "-024-05-01T12:00:00Z",
    ])
    func rejectsMalformedTimes(_ text: String) {
        do {
            _ = try Time(rfc3339: text)
            Issue.record("accepted \"\(text)\"")
        } catch {
            #expect(error.description == "\"\(text)\" is not an RFC 3339 time such as 2024-05-01T12:00:00Z")
        }
    }

    /// Go's `time.Parse` rejects days that the month does not have (`day out of range`).
    @Test(arguments: ["2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z"])
    func rejectsDaysTheMonthDoesNotHave(_ text: String) {
        #expect(throws: ObjectDecodingError.self) { try Time(rfc3339: text) }
    }

    @Test func encodesWholeSecondsInUTC() throws {
        let meta = try KubeJSON.decode(ObjectMeta.self, from: data(#"{"creationTimestamp":"2024-05-01T14:00:00.75+02:00"}"#)).value
        #expect(try KubeJSON.value(of: meta) == ["creationTimestamp": "2024-05-01T12:00:00Z"])
        #expect(meta.creationTimestamp?.truncatedToSeconds == Time(seconds: 1_714_564_800))
    }

    @Test func arithmeticAndOrder() throws {
        let t = Time(seconds: 100, nanoseconds: 5)
        #expect(t.adding(seconds: 10) == Time(seconds: 110, nanoseconds: 5))
        #expect(Time(seconds: 100) < t)
        #expect(t < Time(seconds: 101))
        #expect(t.truncatedToSeconds == Time(seconds: 100))
        let date = Time(seconds: 1_714_564_800, nanoseconds: 500_000_000).date
        #expect(Time(date) == Time(seconds: 1_714_564_800, nanoseconds: 500_000_000))
    }
}

@Suite struct StrictJSONTests {
    @Test func duplicateMembersAreReported() throws {
        let json = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"type":"ClusterIP","type":"NodePort","ports":[{"port":80,"port":81}]}}"#
        let decoded = try KubeJSON.decode(Service.self, from: Data(json.utf8))
        #expect(decoded.value.spec.type == .nodePort)
        #expect(decoded.value.ports.first?.port == 81)
        #expect(decoded.duplicateFields == ["spec.type", "spec.ports[0].port"])
        #expect(decoded.strictErrors == [#"duplicate field "spec.type""#, #"duplicate field "spec.ports[0].port""#])
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: ObjectDecodingError.self) { try KubeJSON.parse(Data(deep.utf8)) }
    }

    @Test func escapesAndUnicode() throws {
        let value = try KubeJSON.parse(Data(#"{"a":"tab\there \u00e9 \ud83d\ude00 \ud800 \/"}"#.utf8))
        #expect(value["a"] == .string("tab\there é 😀 \u{FFFD} /"))
    }

    @Test(arguments: ["-0", "1.5e3", "123456789012345678901234567890", "-12"])
    func numbers(_ text: String) throws {
        let value = try KubeJSON.parse(Data(text.utf8))
        switch value {
        case .int, .double: break
        default: Issue.record("not a number: \(value)")
        }
    }
}
