import CGDAL

/// An XML document read by GDAL's own parser (`CPLParseXMLString`): elements with their local
/// names (namespace prefixes dropped), attributes and text. GDAL's parser is fuzzed upstream and
/// fails with an error on malformed or truncated input; Foundation's XML parser on Linux traps
/// on invalid UTF-8 and on some processing instructions (found by `make fuzz`), so lake reads
/// catalogue XML through this one.
public struct XMLElement: Sendable {
    public let name: String
    public let attributes: [String: String]
    public let text: String
    public let children: [XMLElement]

    /// Parses `text`; throws with GDAL's message (which names the line) when it is not XML.
    public static func parse(_ text: String) throws -> XMLElement {
        GDAL.initialize()
        _ = GDALErrors.drain()
        guard let tree = CPLParseXMLString(text) else {
            throw GDALError("not well-formed XML")
        }
        defer { CPLDestroyXMLNode(tree) }
        // The tree's top level holds the declaration, comments and the root element as siblings.
        var node: UnsafeMutablePointer<CPLXMLNode>? = tree
        while let n = node {
            if n.pointee.eType == CXT_Element, let v = n.pointee.pszValue, v.pointee != UInt8(ascii: "?") { return element(n) }
            node = n.pointee.psNext
        }
        throw GDALError("no XML element")
    }

    private static func localName(_ raw: UnsafeMutablePointer<CChar>?) -> String {
        guard let raw else { return "" }
        let name = String(cString: raw)
        if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return name
    }

    private static func element(_ n: UnsafeMutablePointer<CPLXMLNode>) -> XMLElement {
        var attributes: [String: String] = [:], text = "", children: [XMLElement] = []
        var child = n.pointee.psChild
        while let c = child {
            switch c.pointee.eType {
            case CXT_Attribute:
                let value = c.pointee.psChild?.pointee.pszValue.map { String(cString: $0) } ?? ""
                attributes[localName(c.pointee.pszValue)] = value
            case CXT_Text:
                if let v = c.pointee.pszValue { text += String(cString: v) }
            case CXT_Element:
                children.append(element(c))
            default:
                break
            }
            child = c.pointee.psNext
        }
        return XMLElement(name: localName(n.pointee.pszValue), attributes: attributes, text: text, children: children)
    }
}
