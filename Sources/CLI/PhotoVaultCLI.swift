import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PhotoVaultProto
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// `photovault`: the PhotoVault command-line client.
@main
struct PhotoVaultCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photovault",
        abstract: "The PhotoVault command-line client.",
        discussion: """
            Every command takes --json: one JSON document on stdout (errors too: {"error": {...}}).

            Exit status: 0 success, 1 failure, 2 usage error, 3 not signed in or sign-in refused, \
            4 server unreachable, 5 invalid input, 6 not found, 7 permission denied, 8 rate limited, \
            9 some files of an upload failed, 10 not offered by this server yet, 130 interrupted.
            """,
        subcommands: [
            Register.self, Login.self, WhoAmI.self, Logout.self, Upload.self, ListImages.self, Show.self, Download.self, Edit.self,
            Remove.self, Restore.self, Search.self, Caption.self, Albums.self, People.self, Events.self,
            Dashboard.self, Admin.self,
        ])

    /// Like ArgumentParser's, but a usage error exits with 2 (and is JSON with --json).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        Output.json = arguments.prefix { $0 != "--" }.contains("--json")
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            terminate(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code.rawValue == ExitCode.validationFailure.rawValue {
                if Output.json {
                    let message = self.message(for: error)
                    FileHandle.standardError.write(Data("photovault: \(message)\n".utf8))
                    Output.printJSON(["error": ["message": message, "exit_status": 2] as [String: Any]])
                    terminate(2)
                }
                FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
                terminate(2)
            }
            exit(withError: error)
        }
    }
}

/// Ends the process (the global `exit`, which ParsableCommand's own `exit(withError:)` hides).
func terminate(_ status: Int32) -> Never {
    exit(status)
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "API address host:port (PHOTOVAULT_SERVER, default 127.0.0.1:50051; after login, the server signed in to).")
    var server: String?
    @Flag(help: "Print machine-readable JSON.")
    var json = false
    @Flag(help: "Connect with TLS, trusting the system's certificate authorities.")
    var tls = false
    @Option(help: "Connect with TLS, trusting the PEM certificate(s) in this file (a self-signed server, say).")
    var tlsCa: String?

    var security: HTTP2ClientTransport.Posix.TransportSecurity {
        if let tlsCa {
            return .tls { $0.trustRoots = .certificates([.file(path: tlsCa, format: .pem)]) }
        }
        return tls ? .tls() : .plaintext
    }

    func resolvedServer(signedIn: String? = nil) -> String {
        server ?? ProcessInfo.processInfo.environment["PHOTOVAULT_SERVER"] ?? signedIn ?? "127.0.0.1:50051"
    }
}

/// Runs `body` with a client for `server`, turning failures into one sentence and an exit status.
func withAuthService<T: Sendable>(
    _ server: String, security: HTTP2ClientTransport.Posix.TransportSecurity, _ body: (Photovault_V1_AuthService.Client<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    do {
        return try await withGRPCClient(transport: try transport(for: server, security: security)) { client in
            try await body(Photovault_V1_AuthService.Client(wrapping: client))
        }
    } catch let error as ExitCode {
        throw error
    } catch {
        throw fail(CLIError(error))
    }
}

extension Photovault_V1_Role {
    var name: String {
        switch self {
        case .admin: "admin"
        case .photographer: "photographer"
        case .member: "member"
        default: "unknown"
        }
    }
}

/// `photovault login`: signs in and keeps the sign-in.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign in and remember the sign-in (~/.config/photovault, mode 0600).")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Your e-mail address.") var email: String
    @Flag(help: "Read the password from standard input instead of prompting.") var passwordStdin = false

    func run() async throws {
        let password = try readPassword(prompt: "Password for \(email): ", fromStdin: passwordStdin, confirm: false)
        let server = options.resolvedServer()
        let reply = try await withAuthService(server, security: options.security) { auth in
            try await auth.login(.with {
                $0.email = email
                $0.password = password
            })
        }
        try remember(reply, server: server, options: options, saying: "Signed in to")
    }
}

/// `photovault register`: creates an account (the first one on a server becomes its admin) and
/// signs in with it.
struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an account on a server and sign in (the first account becomes the admin).")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Your e-mail address.") var email: String
    @Option(help: "Your name, as others see it.") var name: String
    @Flag(help: "Read the password from standard input instead of prompting.") var passwordStdin = false

    func run() async throws {
        let password = try readPassword(prompt: "New password (at least 10 characters): ", fromStdin: passwordStdin, confirm: true)
        let server = options.resolvedServer()
        let reply = try await withAuthService(server, security: options.security) { auth in
            try await auth.register(.with {
                $0.email = email
                $0.password = password
                $0.name = name
            })
        }
        try remember(reply, server: server, options: options, saying: "Created your account and signed in to")
    }
}

/// A password from standard input, or typed at a prompt (twice when `confirm`).
private func readPassword(prompt: String, fromStdin: Bool, confirm: Bool) throws -> String {
    if fromStdin { return readLine(strippingNewline: true) ?? "" }
    guard let typed = getpass(prompt) else { throw fail(.local("No password was entered.")) }
    let password = String(cString: typed)
    if confirm {
        guard let again = getpass("Again: "), String(cString: again) == password else {
            throw fail(.local("The two passwords differ; nothing was created."))
        }
    }
    return password
}

/// Saves a sign-in's tokens for the next commands and says who is signed in where.
private func remember(_ reply: Photovault_V1_AuthResponse, server: String, options: GlobalOptions, saying: String) throws {
    do {
        try Credentials(
            server: server, email: reply.user.email, accessToken: reply.accessToken,
            accessTokenExpiresAt: reply.accessTokenExpiresAt.date, refreshToken: reply.refreshToken
        ).save()
    } catch let error as CLIError {
        throw fail(error)
    }
    if options.json {
        printJSON(["email": reply.user.email, "name": reply.user.name, "role": reply.user.role.name, "server": server])
    } else {
        print("\(saying) \(server) as \(reply.user.email) (\(reply.user.role.name)).")
    }
}

/// `photovault whoami`: shows the signed-in account.
struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show the signed-in account.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        var credentials: Credentials
        do { credentials = try Credentials.load() } catch let error as CLIError { throw fail(error) }
        let server = options.resolvedServer(signedIn: credentials.server)
        let user = try await withAuthService(server, security: options.security) { auth in
            try await SignedIn.call(auth, &credentials) { token in
                try await auth.me(.init(), metadata: ["authorization": "Bearer \(token)"]).user
            }
        }
        if options.json {
            printJSON(["id": user.id, "email": user.email, "name": user.name, "role": user.role.name, "server": server])
        } else {
            print("\(user.name) <\(user.email)>, \(user.role.name), on \(server)")
        }
    }
}

/// `photovault logout`: ends the sign-in here and on the server.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the sign-in on the server and forget it here.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        var credentials: Credentials
        do { credentials = try Credentials.load() } catch let error as CLIError { throw fail(error) }
        let server = options.resolvedServer(signedIn: credentials.server)
        defer { Credentials.delete() }
        _ = try await withAuthService(server, security: options.security) { auth in
            try await SignedIn.call(auth, &credentials) { token in
                try await auth.logout(.init(), metadata: ["authorization": "Bearer \(token)"])
            }
        }
        if options.json { printJSON(["signed_out": true]) } else { print("Signed out.") }
    }
}

/// Calls with the saved access token, refreshing it first when it has expired (or when the
/// server refuses it) and saving the new pair, so a sign-in lasts as long as its refresh token.
enum SignedIn {
    static func call<T: Sendable>(
        _ auth: Photovault_V1_AuthService.Client<HTTP2ClientTransport.Posix>, _ credentials: inout Credentials,
        _ body: (String) async throws -> T
    ) async throws -> T {
        if credentials.accessTokenExpiresAt.timeIntervalSinceNow < 30 {
            try await refresh(auth, &credentials)
        }
        do {
            return try await body(credentials.accessToken)
        } catch let error as RPCError where error.code == .unauthenticated {
            try await refresh(auth, &credentials)
            return try await body(credentials.accessToken)
        }
    }

    static func refresh(_ auth: Photovault_V1_AuthService.Client<HTTP2ClientTransport.Posix>, _ credentials: inout Credentials) async throws {
        let reply: Photovault_V1_AuthResponse
        do {
            reply = try await auth.refresh(.with { $0.refreshToken = credentials.refreshToken })
        } catch let error as RPCError where error.code == .unauthenticated {
            Credentials.delete()
            throw CLIError.local("Your sign-in has ended (\(error.message)); run `photovault login` again.")
        }
        credentials.accessToken = reply.accessToken
        credentials.accessTokenExpiresAt = reply.accessTokenExpiresAt.date
        credentials.refreshToken = reply.refreshToken
        try credentials.save()
    }
}
