import Foundation

/// The sign-in the CLI keeps between runs, in `~/.config/photovault/credentials.json` (mode 0600).
struct Credentials: Codable {
    var server: String
    var email: String
    var accessToken: String
    var accessTokenExpiresAt: Date
    var refreshToken: String

    /// `$XDG_CONFIG_HOME/photovault/credentials.json`, else `~/.config/photovault/credentials.json`.
    static var file: URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        return base.appendingPathComponent("photovault/credentials.json")
    }

    static func load() throws -> Credentials {
        guard let data = try? Data(contentsOf: file) else {
            throw CLIError.notSignedIn
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let credentials = try? decoder.decode(Credentials.self, from: data) else {
            throw CLIError.notSignedIn
        }
        return credentials
    }

    /// Writes atomically with mode 0600 in a 0700 folder: the file holds a refresh token.
    func save() throws {
        let folder = Self.file.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = folder.appendingPathComponent(".credentials-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError.local("Cannot write \(temporary.path).")
        }
        guard rename(temporary.path, Self.file.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError.local("Cannot write \(Self.file.path).")
        }
    }

    static func delete() {
        try? FileManager.default.removeItem(at: file)
    }
}
