/// A small arithmetic/comparison language for crop rules in option files:
/// `ndvi_may < ndvi_jun`, `(ndvi_jul + ndvi_aug + ndvi_sep) / 3 > 0.7`, `b11_may / b08_may > 0.8`.
/// Numbers, feature names, + − × ÷, parentheses, and one comparison (<, >, <=, >=).
/// A feature without a value makes the whole expression unknown (nil).
public struct Expression: Sendable, CustomStringConvertible {
    indirect enum Node: Sendable {
        case number(Double)
        case feature(String)
        case negate(Node)
        case binary(Character, Node, Node)
        case compare(String, Node, Node)
    }

    let root: Node
    public let description: String

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws {
        description = text
        var parser = Parser(tokens: try Self.tokens(text), text: text)
        root = try parser.comparison()
        guard parser.position == parser.tokens.count else {
            throw ParseError(description: "unexpected \(parser.tokens[parser.position]) in \(text)")
        }
    }

    /// Names of the features the expression reads.
    public var features: Set<String> {
        func walk(_ n: Node) -> Set<String> {
            switch n {
            case .number: return []
            case .feature(let f): return [f]
            case .negate(let a): return walk(a)
            case .binary(_, let a, let b), .compare(_, let a, let b): return walk(a).union(walk(b))
            }
        }
        return walk(root)
    }

    /// 1 for true, 0 for false for comparisons; the value otherwise; nil when a feature is missing.
    public func evaluate(_ features: [String: Double]) -> Double? {
        func eval(_ n: Node) -> Double? {
            switch n {
            case .number(let v): return v
            case .feature(let f): return features[f]
            case .negate(let a): return eval(a).map { -$0 }
            case .binary(let op, let a, let b):
                guard let x = eval(a), let y = eval(b) else { return nil }
                switch op {
                case "+": return x + y
                case "-": return x - y
                case "*": return x * y
                default: return y == 0 ? nil : x / y
                }
            case .compare(let op, let a, let b):
                guard let x = eval(a), let y = eval(b) else { return nil }
                switch op {
                case "<": return x < y ? 1 : 0
                case ">": return x > y ? 1 : 0
                case "<=": return x <= y ? 1 : 0
                default: return x >= y ? 1 : 0
                }
            }
        }
        return eval(root)
    }

    enum Token: Equatable, CustomStringConvertible {
        case number(Double), name(String), op(String), open, close
        var description: String {
            switch self {
            case .number(let v): return String(v)
            case .name(let n): return n
            case .op(let o): return o
            case .open: return "("
            case .close: return ")"
            }
        }
    }

    static func tokens(_ text: String) throws -> [Token] {
        var out: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " { i += 1; continue }
            if c.isNumber || c == "." {
                var j = i
                while j < chars.count && (chars[j].isNumber || chars[j] == "." || chars[j] == "e" || ((chars[j] == "-" || chars[j] == "+") && j > i && chars[j - 1] == "e")) { j += 1 }
                guard let v = Double(String(chars[i..<j])) else { throw ParseError(description: "bad number \(String(chars[i..<j])) in \(text)") }
                out.append(.number(v)); i = j; continue
            }
            if c.isLetter || c == "_" {
                var j = i
                while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_") { j += 1 }
                out.append(.name(String(chars[i..<j]).lowercased())); i = j; continue
            }
            if c == "(" { out.append(.open); i += 1; continue }
            if c == ")" { out.append(.close); i += 1; continue }
            if "<>".contains(c) {
                if i + 1 < chars.count && chars[i + 1] == "=" { out.append(.op(String(c) + "=")); i += 2 } else { out.append(.op(String(c))); i += 1 }
                continue
            }
            if "+-*/".contains(c) { out.append(.op(String(c))); i += 1; continue }
            throw ParseError(description: "unexpected '\(c)' in \(text)")
        }
        return out
    }

    struct Parser {
        let tokens: [Token]
        let text: String
        var position = 0

        mutating func next() -> Token? { position < tokens.count ? tokens[position] : nil }

        mutating func comparison() throws -> Node {
            let left = try sum()
            if case .op(let o)? = next(), ["<", ">", "<=", ">="].contains(o) {
                position += 1
                return .compare(o, left, try sum())
            }
            return left
        }

        mutating func sum() throws -> Node {
            var node = try term()
            while case .op(let o)? = next(), o == "+" || o == "-" {
                position += 1
                node = .binary(Character(o), node, try term())
            }
            return node
        }

        mutating func term() throws -> Node {
            var node = try factor()
            while case .op(let o)? = next(), o == "*" || o == "/" {
                position += 1
                node = .binary(Character(o), node, try factor())
            }
            return node
        }

        mutating func factor() throws -> Node {
            guard let token = next() else { throw ParseError(description: "unexpected end of \(text)") }
            position += 1
            switch token {
            case .number(let v): return .number(v)
            case .name(let n): return .feature(n)
            case .op("-"): return .negate(try factor())
            case .open:
                let inner = try sum()
                guard next() == .close else { throw ParseError(description: "missing ) in \(text)") }
                position += 1
                return inner
            default: throw ParseError(description: "unexpected \(token) in \(text)")
            }
        }
    }
}
