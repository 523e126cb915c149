/// LEB128 varints and zigzag integers, the building blocks of the signature codecs.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }

    mutating func varint(_ value: UInt64) { Self.varint(value, to: &bytes) }

    /// Appends `value` as a varint to bytes held elsewhere (a sort's arena).
    static func varint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func f32(_ v: Float) {
        let b = v.bitPattern
        bytes.append(UInt8(truncatingIfNeeded: b)); bytes.append(UInt8(truncatingIfNeeded: b >> 8))
        bytes.append(UInt8(truncatingIfNeeded: b >> 16)); bytes.append(UInt8(truncatingIfNeeded: b >> 24))
    }

    @inline(__always) static func varintSize(_ value: UInt64) -> Int {
        Swift.max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }
    @inline(__always) static func zigzagValue(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
}

/// Reads what ByteWriter wrote; every read is bounds-checked, so a damaged or hostile blob
/// throws instead of reading past its end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    struct Truncated: Error {}

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    @inline(__always) mutating func u8() throws -> UInt8 {
        guard offset < bytes.count else { throw Truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always) mutating func varint() throws -> UInt64 {
        // Most values fit one byte; with ten bytes left no byte needs its own bounds check.
        if offset < bytes.count, bytes[offset] < 0x80 {
            defer { offset += 1 }
            return UInt64(bytes[offset])
        }
        guard offset + 10 <= bytes.count else { return try longVarint() }
        var p = offset, result: UInt64 = 0, shift: UInt64 = 0
        while shift < 64 {
            let b = bytes[p]; p += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { offset = p; return result }
            shift += 7
        }
        throw Truncated()
    }

    private mutating func longVarint() throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw Truncated() }
            let b = bytes[offset]; offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always) mutating func zigzag() throws -> Int64 { Self.unzigzag(try varint()) }

    /// The signed value of a zigzag-coded varint (`ByteWriter.zigzagValue`'s inverse).
    @inline(__always) static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1))) }

    @inline(__always) mutating func f32() throws -> Float {
        guard offset + 4 <= bytes.count else { throw Truncated() }
        let b = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        offset += 4
        return Float(bitPattern: b)
    }
}
