import Foundation
import KubeAPI
import Testing

/// Bad input never traps: every parser either succeeds or throws an error with a message.
@Suite struct FuzzTests {
    /// SplitMix64: small, fast, deterministic.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static func randomBytes(_ rng: inout SeededGenerator, maxLength: Int) -> [UInt8] {
        (0..<Int.random(in: 0...maxLength, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    private static func randomString(_ rng: inout SeededGenerator, alphabet: [String], maxLength: Int) -> String {
        (0..<Int.random(in: 0...maxLength, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    /// Replaces, inserts or deletes a few bytes.
    private static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        let interesting: [UInt8] = Array("{}[]\",:0123456789-.eEtrufalsn \\/".utf8) + [0, 0x7F, 0xC3, 0xFF]
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let choice = Int.random(in: 0..<3, using: &rng)
            if out.isEmpty || choice == 0 {
                out.insert(interesting.randomElement(using: &rng)!, at: Int.random(in: 0...out.count, using: &rng))
            } else if choice == 1 {
                out[Int.random(in: 0..<out.count, using: &rng)] = interesting.randomElement(using: &rng)!
            } else {
                out.remove(at: Int.random(in: 0..<out.count, using: &rng))
            }
        }
        return out
    }

    /// Decodes; when that works, defaults and validates too (neither may trap on odd values).
    @discardableResult
    private static func exercise(_ bytes: [UInt8]) -> Bool {
        do {
            var svc = try KubeJSON.decode(Service.self, from: Data(bytes)).value
            svc.applyDefaults()
            _ = Status.invalid(kind: "Service", name: svc.name, errors: svc.validateUpdate(from: svc))
            return true
        } catch {
            #expect(!error.description.isEmpty)
            return false
        }
    }

    @Test func randomBytesIntoServiceDecoder() {
        var rng = SeededGenerator(seed: 0x5EED_0001)
        for _ in 0..<2000 { Self.exercise(Self.randomBytes(&rng, maxLength: 64)) }
    }

    @Test func mutatedServiceJSON() {
        var rng = SeededGenerator(seed: 0x5EED_0002)
        let seeds = [Fixtures.serviceThreePorts, Fixtures.dualStackHeadless, Fixtures.externalName, Fixtures.loadBalancer]
            .map { Array($0.utf8) }
        var decodedCount = 0
        for i in 0..<1200 {
            if Self.exercise(Self.mutate(seeds[i % seeds.count], &rng)) { decodedCount += 1 }
        }
        // Whitespace-only mutations still decode: the loop did reach validation.
        #expect(decodedCount > 0)
    }

    @Test func wrongTypesAtEveryServiceField() throws {
        let base = try KubeJSON.parse(data(Fixtures.loadBalancer))
        let replacements: [JSONValue] = [.null, true, 7, -1, 1.5, "x", [], [:], [1, "a"], ["k": "v"], 4_294_967_296]
        var paths: [[String]] = []
        func collect(_ value: JSONValue, _ path: [String]) {
            paths.append(path)
            if case .object(let members) = value { for (k, v) in members { collect(v, path + [k]) } }
        }
        collect(base, [])
        func replacing(_ value: JSONValue, _ path: ArraySlice<String>, with new: JSONValue) -> JSONValue {
            guard let first = path.first else { return new }
            var copy = value
            copy[first] = replacing(value[first] ?? .null, path.dropFirst(), with: new)
            return copy
        }
        for path in paths where !path.isEmpty {
            for replacement in replacements {
                let doc = replacing(base, path[...], with: replacement)
                do {
                    var svc = try KubeJSON.decode(Service.self, from: doc).value
                    svc.applyDefaults()
                    _ = svc.validate()
                } catch {
                    // The error names a field at or below the replaced one (or the document for the root).
                    #expect(error.field.hasPrefix(path.joined(separator: ".")) || error.field.isEmpty, "\(path): \(error)")
                    #expect(!error.reason.isEmpty)
                }
            }
        }
    }

    @Test func truncatedJSONAlwaysThrows() {
        let service = Array(Fixtures.serviceThreePorts.utf8)
        for length in 0..<service.lastIndex(of: UInt8(ascii: "}"))! {
            #expect(throws: ObjectDecodingError.self) { try KubeJSON.decode(Service.self, from: Data(service[0..<length])) }
        }
        let pod = Array(Fixtures.podWithProbes.utf8)
        for length in stride(from: 0, to: pod.lastIndex(of: UInt8(ascii: "}"))!, by: 3) {
            #expect(throws: ObjectDecodingError.self) { try KubeJSON.decode(Pod.self, from: Data(pod[0..<length])) }
        }
    }

    @Test func randomLabelSelectors() throws {
        var rng = SeededGenerator(seed: 0x5EED_0003)
        let alphabet = [
            "a", "b", "x", "1", "-", "_", ".", "/", "=", "==", "!", "!=", "(", ")", ",", " ", "\t", "<", ">", " in ",
            " notin ", "in", "é", "\\", "\"", "\u{0}",
        ]
        var parsed = 0
        for _ in 0..<4000 {
            let text = Self.randomString(&rng, alphabet: alphabet, maxLength: 12)
            do {
                let selector = try Selector(parsing: text)
                parsed += 1
                // The canonical form is stable.
                let again = try Selector(parsing: selector.description)
                #expect(again.description == selector.description, "\(text)")
                _ = selector.matches(["a": "1", "b": ""])
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed > 0)
    }

    @Test func randomLabelSelectorBytes() {
        var rng = SeededGenerator(seed: 0x5EED_0004)
        for _ in 0..<2000 {
            let text = String(decoding: Self.randomBytes(&rng, maxLength: 24), as: UTF8.self)
            if let message = labelSelectorError(text) { #expect(!message.isEmpty) }
        }
    }

    @Test func randomLabelSelectorObjects() {
        var rng = SeededGenerator(seed: 0x5EED_0005)
        let keys = ["a", "", "-a", "example.com/a", "a/b/c", "A_b"]
        let ops = ["In", "NotIn", "Exists", "DoesNotExist", "Foo", ""]
        let values: [[String]?] = [nil, [], ["x"], ["", "y"], ["-bad"], ["x", "x"]]
        for _ in 0..<1000 {
            let selector = LabelSelector(
                matchLabels: Bool.random(using: &rng) ? [keys.randomElement(using: &rng)!: "v"] : nil,
                matchExpressions: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                    LabelSelectorRequirement(
                        key: keys.randomElement(using: &rng)!, operator: ops.randomElement(using: &rng)!,
                        values: values.randomElement(using: &rng)!)
                })
            do {
                _ = try selector.asSelector().matches(["a": "x"])
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }

    @Test func randomFieldSelectors() throws {
        var rng = SeededGenerator(seed: 0x5EED_0006)
        let alphabet = ["a", "b", ".", "=", "==", "!=", "!", ",", "\\", "\\,", "\\=", "\\\\", " ", "é", "x"]
        var parsed = 0
        for _ in 0..<4000 {
            let text = Self.randomString(&rng, alphabet: alphabet, maxLength: 10)
            do {
                let selector = try FieldSelector(parsing: text)
                parsed += 1
                let again = try FieldSelector(parsing: selector.description)
                #expect(again == selector, "\(text)")
                _ = selector.matches { _ in "a" }
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed > 0)
        for _ in 0..<1000 {
            let text = String(decoding: Self.randomBytes(&rng, maxLength: 24), as: UTF8.self)
            if let message = fieldSelectorError(text) { #expect(!message.isEmpty) }
        }
    }

    @Test func randomTimes() throws {
        var rng = SeededGenerator(seed: 0x5EED_0007)
        let valid = Array("2024-05-01T12:00:00.123456789+02:00".utf8)
        var parsed = 0
        for i in 0..<4000 {
            let bytes = i % 2 == 0 ? Self.mutate(valid, &rng) : Self.randomBytes(&rng, maxLength: 40)
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let t = try Time(rfc3339: text)
                parsed += 1
                #expect(try Time(rfc3339: t.rfc3339Nano) == t, "\(text)")
                #expect(try Time(rfc3339: t.rfc3339) == t.truncatedToSeconds, "\(text)")
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        #expect(parsed > 0)
    }

    @Test func malformedSelectorsThrowClearly() {
        for text in ["(", ")", "!!", "a in ((", "a=b)", "a notin", "a in (b,c", "===", "a<", "!a=b", "a ! b", "notin (x)", "a in (x,y))"] {
            let message = labelSelectorError(text)
            #expect(message != nil, "\(text) parsed")
            #expect(message?.isEmpty == false)
        }
        for text in ["a", "\\", "a=\\", "a=b\\c", "a=b=c", "x,a=b"] {
            #expect(fieldSelectorError(text) != nil, "\(text) parsed")
        }
    }
}
