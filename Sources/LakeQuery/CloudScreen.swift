/// Marks an observation cloud-free from its SCL histogram: no pixel in the excluded classes
/// (default 3 cloud shadow, 8/9 cloud medium/high probability, 10 thin cirrus, 11 snow, as the
/// JRC `scl = '3_8_9_10_11'`).
public struct CloudScreen: Sendable {
    public static let defaultClasses: Set<Int> = [3, 8, 9, 10, 11]
    public let excluded: Set<Int>

    public init(excluded: Set<Int> = CloudScreen.defaultClasses) { self.excluded = excluded }

    /// Parses "3,8,9,10,11" or the JRC form "3_8_9_10_11".
    public init?(parsing text: String) {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == "_" || $0 == " " })
        let classes = parts.compactMap { Int($0) }
        guard classes.count == parts.count, classes.allSatisfy({ (0...11).contains($0) }) else { return nil }
        excluded = Set(classes)
    }

    public func isClear(_ histogram: [Int]) -> Bool {
        excluded.allSatisfy { $0 >= histogram.count || histogram[$0] == 0 }
    }
}
