import Testing
@testable import DNSWire

@Suite struct TCPFramingTests {
    @Test func frameAndExtractAcrossPartialReads() throws {
        let a = try DNSMessage.query(id: 1, name: name("a.example"), type: .a).serialize()
        let b = try DNSMessage.query(id: 2, name: name("b.example"), type: .aaaa).serialize()
        var stream = try DNSTCPFraming.frame(a)
        try DNSTCPFraming.appendFrame(b, to: &stream)
        #expect(Array(stream[0..<2]) == [0, UInt8(a.count)])

        // Feed the stream a few bytes at a time: messages come out whole, in order, exactly once.
        var buffer: [UInt8] = []
        var received: [[UInt8]] = []
        var i = 0
        for chunk in [1, 2, 7, 30, 1, 100, 1000] where i < stream.count {
            let end = min(stream.count, i + chunk)
            buffer += stream[i..<end]
            i = end
            received += DNSTCPFraming.extractMessages(from: &buffer)
        }
        #expect(received == [a, b])
        #expect(buffer.isEmpty)
    }

    @Test func partialFramesStay() {
        var buffer: [UInt8] = [0, 5, 1, 2, 3]
        #expect(DNSTCPFraming.extractMessages(from: &buffer).isEmpty)
        #expect(buffer == [0, 5, 1, 2, 3])
        #expect(DNSTCPFraming.frameLength(in: buffer) == 7)
        #expect(DNSTCPFraming.frameLength(in: [0]) == nil)
        buffer += [4, 5, 0]
        #expect(DNSTCPFraming.extractMessages(from: &buffer) == [[1, 2, 3, 4, 5]])
        #expect(buffer == [0])
    }

    @Test func rangesAndZeroLengthFrames() {
        let stream: [UInt8] = [0, 0, 0, 2, 9, 9, 0, 1]
        let (ranges, consumed) = DNSTCPFraming.completeMessages(in: stream)
        #expect(ranges == [2..<2, 4..<6])
        #expect(consumed == 6)
    }

    @Test func oversizedMessagesCannotBeFramed() throws {
        #expect(throws: DNSWireError.self) { try DNSTCPFraming.frame([UInt8](repeating: 0, count: 65536)) }
        #expect(try DNSTCPFraming.frame([UInt8](repeating: 0, count: 65535)).count == 65537)
    }
}
