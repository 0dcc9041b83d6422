import KubeAPI
import Testing

/// `field.Error` rendering and the Status constructors (k8s-service-validation.md §2.0, §3.2, §3.3).
@Suite struct FieldErrorRenderingTests {
    @Test func fieldPathRendering() {
        let path = FieldPath("spec").child("ports").index(1).child("name")
        #expect(path.description == "spec.ports[1].name")
        #expect(FieldPath("metadata").child("annotations").key("foo/bar").description == "metadata.annotations[foo/bar]")
        #expect(FieldPath("").child("values").description == "values")
        #expect(FieldPath("values").index(0).key("a").description == "values[0][a]")
    }

    @Test(arguments: [
        (FieldError.Kind.required, "Required value", "FieldValueRequired"),
        (.invalid, "Invalid value", "FieldValueInvalid"),
        (.duplicate, "Duplicate value", "FieldValueDuplicate"),
        (.notSupported, "Unsupported value", "FieldValueNotSupported"),
        (.forbidden, "Forbidden", "FieldValueForbidden"),
        (.tooLong, "Too long", "FieldValueTooLong"),
        (.tooMany, "Too many", "FieldValueTooMany"),
        (.notFound, "Not found", "FieldValueNotFound"),
        (.internal, "Internal error", "InternalError"),
    ])
    func kindTextsAndReasons(_ kind: FieldError.Kind, _ text: String, _ reason: String) {
        #expect(kind.text == text)
        #expect(kind.rawValue == reason)
    }

    @Test func requiredForbiddenTooLongAndInternalNeverPrintTheValue() {
        for kind in [FieldError.Kind.required, .forbidden, .tooLong, .internal] {
            let e = FieldError(kind, "spec.x", value: .string("secret"), detail: "why")
            #expect(e.description == "spec.x: \(kind.text): why")
        }
        #expect(FieldError.required("spec.ports").description == "spec.ports: Required value")
    }

    @Test func valueKindsPrintTheValue() {
        #expect(FieldError(.notFound, "a", value: .string("x")).description == #"a: Not found: "x""#)
        #expect(FieldError(.tooMany, "a", value: .int(3), detail: "must have at most 2 items").description
            == "a: Too many: 3: must have at most 2 items")
        #expect(FieldError.duplicate("spec.ports[1].name", .string("http")).description
            == #"spec.ports[1].name: Duplicate value: "http""#)
        #expect(FieldError.invalid("a", .none, "bad").description == "a: Invalid value: bad")
    }

    @Test func tooLongDetail() {
        #expect(FieldError.tooLong("metadata.annotations", maxBytes: 262144).description
            == "metadata.annotations: Too long: must have at most 262144 bytes")
    }

    @Test func notSupportedQuotesEachValueInGivenOrder() {
        let e = FieldError.notSupported("spec.type", .string("Foo"), supported: ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"])
        #expect(e.description == #"spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#)
        let literal = FieldError.notSupported("spec.restartPolicy", .string("Foo"), supported: ["Always", "OnFailure", "Never"])
        #expect(literal.body == #"Unsupported value: "Foo": supported values: "Always", "OnFailure", "Never""#)
    }

    @Test func badValueRendering() {
        #expect(BadValue.string("a\"b\\c\n").rendered == #""a\"b\\c\n""#)
        #expect(BadValue.string("").rendered == #""""#)
        #expect(BadValue.int(-3).rendered == "-3")
        #expect(BadValue.bool(true).rendered == "true")
        #expect(BadValue.null.rendered == "null")
        #expect(BadValue.strings(nil).rendered == "[]string(nil)")
        #expect(BadValue.strings([]).rendered == "[]string{}")
        #expect(BadValue.strings(["10.0.0.1", "10.0.0.2"]).rendered == #"[]string{"10.0.0.1", "10.0.0.2"}"#)
        #expect(BadValue.stringSlice(["IPv4", "IPv6"], goType: "core.IPFamily").rendered == #"[]core.IPFamily{"IPv4", "IPv6"}"#)
        #expect(BadValue.goQuote("tab\tbell\u{7}") == #""tab\tbell\x07""#)
    }

    @Test func aggregateMessage() {
        let a = FieldError.required("spec.ports")
        let b = FieldError.duplicate("spec.ports[1].name", .string("http"))
        #expect([a].aggregateMessage == "spec.ports: Required value")
        #expect([a, b].aggregateMessage == #"[spec.ports: Required value, spec.ports[1].name: Duplicate value: "http"]"#)
        #expect([a, b, a].aggregateMessage == #"[spec.ports: Required value, spec.ports[1].name: Duplicate value: "http"]"#)
        #expect([a, a].aggregateMessage == "spec.ports: Required value")
    }
}

@Suite struct StatusTests {
    private let portErrors: [FieldError] = [
        .invalid(FieldPath("spec").child("ports").index(0).child("port"), .int(0), "must be between 1 and 65535, inclusive"),
        .invalid(FieldPath("spec").child("ports").index(0).child("targetPort"), .int(0), "must be between 1 and 65535, inclusive"),
    ]

    @Test func invalidWithSeveralErrorsUsesBrackets() {
        let status = Status.invalid(kind: "Service", name: "web", errors: portErrors)
        #expect(status.message
            == "Service \"web\" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]")
        #expect(status.code == 422)
        #expect(status.status == "Failure")
        #expect(status.reason == .invalid)
        #expect(status.kind == "Status")
        #expect(status.apiVersion == "v1")
        #expect(status.details?.name == "web")
        #expect(status.details?.kind == "Service")
        #expect(status.details?.group == nil)
    }

    @Test func invalidWithOneErrorHasNoBrackets() {
        let status = Status.invalid(kind: "Service", name: "web", errors: [.required("spec.ports")])
        #expect(status.message == "Service \"web\" is invalid: spec.ports: Required value")
    }

    @Test func invalidWithoutErrors() {
        #expect(Status.invalid(kind: "Service", name: "web", errors: []).message == "Service \"web\" is invalid")
    }

    @Test func invalidDeduplicatesMessageButNotCauses() {
        let dup = FieldError.duplicate("spec.ports[1].name", .string("http"))
        let status = Status.invalid(kind: "Service", name: "web", errors: [dup, .required("spec.ports"), dup])
        #expect(status.message == #"Service "web" is invalid: [spec.ports[1].name: Duplicate value: "http", spec.ports: Required value]"#)
        #expect(status.details?.causes?.count == 3)
        #expect(status.details?.causes?[0] == StatusCause(reason: "FieldValueDuplicate", message: #"Duplicate value: "http""#, field: "spec.ports[1].name"))
        #expect(status.details?.causes?[1] == StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.ports"))
        #expect(status.details?.causes?[2] == status.details?.causes?[0])
    }

    @Test func causeEncodesAsTheAPIServerSendsIt() throws {
        let status = Status.invalid(kind: "Service", name: "web", errors: [.duplicate("spec.ports[1].name", .string("http"))])
        let value = try KubeJSON.value(of: status)
        let expected: JSONValue = [
            "reason": "FieldValueDuplicate", "message": "Duplicate value: \"http\"", "field": "spec.ports[1].name",
        ]
        #expect(value["details"]?["causes"] == JSONValue.array([expected]))
        #expect(value["code"] == 422)
        #expect(value["reason"] == "Invalid")
        #expect(value["status"] == "Failure")
        #expect(value["details"]?["group"] == nil)
    }

    @Test func invalidWithGroupQualifiesTheKind() {
        let status = Status.invalid(kind: "EndpointSlice", group: "discovery.k8s.io", name: "web-abc", errors: [.required("endpoints")])
        #expect(status.message == #"EndpointSlice.discovery.k8s.io "web-abc" is invalid: endpoints: Required value"#)
        #expect(status.details?.group == "discovery.k8s.io")
        #expect(status.details?.kind == "EndpointSlice")
    }

    @Test func nameIsGoQuoted() {
        #expect(Status.invalid(kind: "Service", name: "we\"b", errors: []).message == #"Service "we\"b" is invalid"#)
    }

    @Test func internalError() {
        let status = Status.internalError("range is full")
        #expect(status.message == "Internal error occurred: range is full")
        #expect(status.code == 500)
        #expect(status.reason == .internalError)
        #expect(status.status == "Failure")
        #expect(status.details?.causes == [StatusCause(message: "range is full")])
    }

    @Test func notFound() {
        let status = Status.notFound(resource: "services", name: "web")
        #expect(status.message == #"services "web" not found"#)
        #expect(status.code == 404)
        #expect(status.reason == .notFound)
        #expect(status.details == StatusDetails(name: "web", kind: "services"))
        let grouped = Status.notFound(resource: "endpointslices", group: "discovery.k8s.io", name: "x")
        #expect(grouped.message == #"endpointslices.discovery.k8s.io "x" not found"#)
        #expect(grouped.details?.group == "discovery.k8s.io")
    }

    @Test func alreadyExists() {
        let status = Status.alreadyExists(resource: "services", name: "web")
        #expect(status.message == #"services "web" already exists"#)
        #expect(status.code == 409)
        #expect(status.reason == .alreadyExists)
        #expect(status.details?.name == "web")
    }

    @Test func conflict() {
        let status = Status.conflict(resource: "services", name: "web")
        #expect(status.message
            == #"Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again"#)
        #expect(status.code == 409)
        #expect(status.reason == .conflict)
    }

    @Test func statusIsAnErrorDescribedByItsMessage() {
        let error: any Error = Status.notFound(resource: "pods", name: "p")
        #expect("\(error)" == #"pods "p" not found"#)
    }

    @Test func statusRoundTripsThroughJSON() throws {
        let status = Status.invalid(kind: "Service", name: "web", errors: portErrors)
        let decoded = try KubeJSON.decode(Status.self, from: KubeJSON.encode(status))
        #expect(decoded.value == status)
        #expect(decoded.unknownFields == [])
    }
}
