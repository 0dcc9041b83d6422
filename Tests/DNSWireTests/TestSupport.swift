@testable import DNSWire

/// A name from text the test knows is valid.
func name(_ text: String) -> DNSName { try! DNSName(text) }

/// A 12-byte header with the given counts.
func headerBytes(id: UInt16 = 0xBEEF, flags: UInt16 = 0x0100, qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0)
    -> [UInt8]
{
    [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
}

/// Uncompressed wire form of a dotted name.
func wireName(_ text: String) -> [UInt8] { name(text).wireFormat }

/// QTYPE and QCLASS bytes.
func typeClass(_ type: DNSRecordType = .a, _ cls: DNSClass = .in) -> [UInt8] {
    [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), UInt8(cls.rawValue >> 8), UInt8(cls.rawValue & 0xFF)]
}

/// Parses, expecting failure, and returns the error.
func parseError(_ bytes: [UInt8]) -> DNSWireError? {
    do {
        _ = try DNSMessage(parsing: bytes)
        return nil
    } catch {
        return error
    }
}

func viewError(_ bytes: [UInt8]) -> DNSWireError? {
    do {
        _ = try DNSQueryView(parsing: bytes)
        return nil
    } catch {
        return error
    }
}
