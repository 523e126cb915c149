import ArgumentParser
import LakeCLI
import LakeServer
import LakeStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the JRC CbM query API (/query/parcelByID, parcelByLocation, parcelTimeSeries, parcelPeers, chips, options) and a map viewer (/) over the lake, read-only.",
        discussion: """
            Answers as the JRC server does (JSON in column form), for the cbm Python package and notebooks written against it. \
            Loopback only unless --bind. One line per request on stderr. Stop with Ctrl-C.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "TCP port (0: any free port, printed on stderr).") var port: Int = 8080
    @Option(help: "Address to listen on; 0.0.0.0 opens the server to the network.") var bind: String = "127.0.0.1"
    @Option(name: .customLong("max-rows"), help: "Rows one answer may hold.") var maxRows: Int = 100_000
    @Option(name: .customLong("time-limit"), help: "Seconds a request's queries may run (then 503).") var timeLimit: Double = 10
    @Option(help: "Read-only connections to the lake, one per request answered at a time (default: one per core).") var connections: Int?
    @Option(help: "Require HTTP basic authentication as one of the users of this file (name:bcrypt-hash per line).") var users: String?
    @Option(name: .customLong("add-user"), help: "Add (or replace) this user in the --users file, the password read from stdin, and exit.") var addUser: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port is 0–65535") }
        guard maxRows > 0 else { throw ValidationError("--max-rows must be positive") }
        guard timeLimit > 0, timeLimit.isFinite else { throw ValidationError("--time-limit must be a positive number of seconds") }
        if addUser != nil && users == nil { throw ValidationError("--add-user needs --users FILE") }
        if let connections, !(1...64).contains(connections) { throw ValidationError("--connections is 1–64") }
    }

    func run() async throws {
        if let addUser, let users {
            let password = (readLine(strippingNewline: true) ?? "")
            try guarded {
                try Users.add(name: addUser, password: password, file: users)
                printError("lake serve: \(addUser) added to \(users)")
                return 0
            }
            return
        }
        var options = ServerOptions(path: global.path)
        if let users { try guarded { options.users = try Users(file: users); return 0 } }
        options.port = port; options.host = bind; options.maxRows = maxRows; options.timeLimit = timeLimit
        if let connections { options.connections = connections }
        let (path, host) = (options.path, options.host)
        do {
            try await LakeServer.run(options) { port in printError("lake serve: \(path) on http://\(host):\(port)/query/ (the viewer: http://\(host):\(port)/)") }
        } catch let error as LakeError {
            printError("lake: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}
