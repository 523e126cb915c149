import Foundation
import LakeGDAL

/// Flattens XML into property bags: one per `entry` element (Atom/OpenSearch feeds), or one
/// for the whole document (SAFE MTD_MSIL2A.xml / MTD_MSIL1C.xml). Keys are local element
/// names; the first occurrence wins. Read by GDAL's XML parser (see `XMLElement`).
struct XMLEntries {
    private(set) var root: String?
    private(set) var entries: [[String: Any]] = []
    private(set) var document: [String: Any] = [:]
    private(set) var failure: String?
    private(set) var failureLine = 0

    static func parse(_ data: Data) -> XMLEntries {
        var result = XMLEntries()
        let text = String(decoding: data, as: UTF8.self)
        do {
            let root = try XMLElement.parse(text)
            result.root = root.name
            result.collect(root, into: nil)
        } catch {
            let message = "\(error)"
            result.failure = message
            // GDAL says "... at line N ..." where it can.
            if let r = message.range(of: #"line \d+"#, options: .regularExpression) {
                result.failureLine = Int(message[r].dropFirst(5)) ?? 0
            }
        }
        return result
    }

    private mutating func collect(_ element: XMLElement, into entry: [String: Any]?) {
        if element.name == "entry" {
            var bag: [String: Any] = [:]
            for child in element.children { Self.flatten(child, into: &bag) }
            entries.append(bag)
            return
        }
        let value = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !value.isEmpty && document[element.name] == nil { document[element.name] = value }
        for child in element.children { collect(child, into: nil) }
    }

    /// An entry's elements, depth first: the first text of each local name.
    private static func flatten(_ element: XMLElement, into bag: inout [String: Any]) {
        let value = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !value.isEmpty && bag[element.name] == nil { bag[element.name] = value }
        for child in element.children { flatten(child, into: &bag) }
    }
}
