import Foundation
import LakeStore

/// One input row or feature that was not loaded, and why.
public struct Rejection: Sendable, CustomStringConvertible {
    public let file: String
    public let location: String   // "line 12", "feature 7", "item S2A_..."
    public let reason: String
    public var description: String { "\(file): \(location): \(reason)" }
}

/// What one ingest of one input did; printed as the one-line summary.
public struct IngestSummary: Sendable {
    public let kind: String
    public let source: String
    public var read = 0
    public var inserted = 0
    public var updated = 0
    public var skipped = 0
    public var rejected: [Rejection] = []
    /// Remarks for the user (fields chosen, repairs made), printed to stderr.
    public var notes: [String] = []
    public var seconds: Double = 0

    public init(kind: String, source: String) { self.kind = kind; self.source = source }

    public mutating func reject(_ location: String, _ reason: String) {
        rejected.append(Rejection(file: source, location: location, reason: reason))
    }

    /// With --strict, any rejection fails the input (the caller's transaction then rolls back).
    func enforceStrict(_ strict: Bool, unit: String) throws {
        guard strict, let first = rejected.first else { return }
        throw LakeError.input(file: source, location: first.location,
                              reason: "\(rejected.count) \(unit) rejected, nothing loaded (--strict): \(first.reason)")
    }

    public var line: String {
        "\(source): \(kind): read \(read), inserted \(inserted), updated \(updated), skipped \(skipped), "
            + "rejected \(rejected.count) (\(String(format: "%.2f", seconds)) s)"
    }

    public var json: [String: Any] {
        ["kind": kind, "source": source, "read": read, "inserted": inserted, "updated": updated,
         "skipped": skipped, "rejected": rejected.count, "seconds": seconds,
         "rejections": rejected.prefix(1000).map { ["location": $0.location, "reason": $0.reason] },
         "notes": notes]
    }
}
