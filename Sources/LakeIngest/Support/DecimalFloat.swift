/// Plain decimals (`-1806.6723`, `0.25`, `118`) to float32 without `strtof`, bit for bit as
/// `strtof` rounds them; nil for anything else (exponents, more than 15 digits, `inf`, `nan`,
/// hexadecimal, stray bytes), which the caller hands to `strtof`.
///
/// Why it is exact: with at most 15 significant digits the digits form an integer m < 2^53 and
/// the point a power 10^k with k ≤ 22, both exact in a double, so m / 10^k is the correctly
/// rounded double of the decimal (one IEEE division of exact operands). Rounding that double
/// to float then gives the correctly rounded float unless the double landed exactly on the
/// midpoint between two floats (a tie the decimal itself may not be on): that case is
/// detected and left to `strtof`. Every float midpoint is a double, and rounding to double
/// never crosses one, so no other case can differ. `make bench` shows the gain (strtof was a
/// tenth of a signature ingest's parsing thread); a test compares it with `strtof` over
/// millions of random and edge-case decimals.
enum DecimalFloat {
    private static let powers: [Double] = (0...22).map { k in
        var p = 1.0
        for _ in 0..<k { p *= 10 }   // exact: 10^k = 2^k · 5^k and 5^22 < 2^53
        return p
    }

    @inline(__always)
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Float? {
        var i = 0
        let n = bytes.count
        guard n > 0 else { return nil }
        var negative = false
        if bytes[0] == 45 { negative = true; i = 1 }   // '-'
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits taken (leading zeros do not count)
        var anyDigit = false
        var fraction = 0        // digits after the point
        var seenPoint = false
        while i < n {
            let b = bytes[i]
            if b == 46 {         // '.'
                if seenPoint { return nil }
                seenPoint = true
            } else {
                let d = b &- 48
                guard d < 10 else { return nil }
                anyDigit = true
                if mantissa != 0 || d != 0 { digits += 1 }
                if digits > 15 { return nil }
                mantissa = mantissa &* 10 &+ UInt64(d)
                if seenPoint { fraction += 1 }
            }
            i += 1
        }
        guard anyDigit, fraction <= 22 else { return nil }
        let exact = Double(mantissa) / powers[fraction]
        let f = Float(exact)
        let back = Double(f)
        if back != exact {
            // A tie between two floats in the double: strtof decides from the decimal itself.
            let other = exact > back ? f.nextUp : f.nextDown
            if other.isFinite, (back + Double(other)) / 2 == exact { return nil }
        }
        return negative ? -f : f
    }
}
