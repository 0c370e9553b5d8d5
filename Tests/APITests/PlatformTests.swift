import Crypto
import Foundation
import GRPCCore
@testable import GRPCServices
import PhotoVaultProto
import PostgresNIO
import SwiftProtobuf
import Testing
@testable import API

@Suite("Health and reflection")
struct ServerSurfaceTests {
    @Test func healthReportsTheServerAndEachService() async throws {
        try await withTestAPI { api in
            let server = try await api.health.check(.init()).status
            let auth = try await api.health.check(.with { $0.service = "photovault.v1.AuthService" }).status
            #expect(server == .serving)
            #expect(auth == .serving)
            let unknown = await rpcError { try await api.health.check(.with { $0.service = "nope.Service" }) }
            #expect(unknown?.code == .notFound)
        }
    }

    @Test func reflectionListsServicesAndServesFilesWithTheirImports() async throws {
        try await withTestAPI { api in
            let reflection = Grpc_Reflection_V1_ServerReflection.Client(wrapping: api.client)
            let questions: [Grpc_Reflection_V1_ServerReflectionRequest] = [
                .with { $0.listServices = "*" },
                .with { $0.fileContainingSymbol = "photovault.v1.AuthService" },
                .with { $0.fileContainingSymbol = "photovault.v1.AuthService.Login" },
                .with { $0.fileByFilename = "photovault/v1/admin.proto" },
                .with { $0.fileContainingSymbol = "photovault.v1.NoSuchThing" },
            ]
            let answers = try await reflection.serverReflectionInfo(
                requestProducer: { writer in try await writer.write(contentsOf: questions) },
                onResponse: { response in try await response.messages.reduce(into: []) { $0.append($1) } })
            try #require(answers.count == 5)
            let services = Set(answers[0].listServicesResponse.service.map(\.name))
            #expect(services.isSuperset(of: Set(APIServices.serviceNames)))
            #expect(services.contains("grpc.health.v1.Health"))
            #expect(services.contains("grpc.reflection.v1alpha.ServerReflection"))

            let files = try answers[1].fileDescriptorResponse.fileDescriptorProto.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0) }
            let names = Set(files.map(\.name))
            #expect(names.isSuperset(of: ["photovault/v1/auth.proto", "photovault/v1/common.proto", "google/protobuf/timestamp.proto"]))
            let auth = try #require(files.first { $0.name == "photovault/v1/auth.proto" })
            #expect(auth.service.first?.method.map(\.name) == ["Register", "Login", "Refresh", "Logout", "Me", "VerifyToken", "SendResetCode", "ResetPassword", "ChangePassword"])
            #expect(answers[2].fileDescriptorResponse.fileDescriptorProto.count == files.count)
            #expect(!answers[3].fileDescriptorResponse.fileDescriptorProto.isEmpty)
            #expect(answers[4].errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
        }
    }

    /// Every service and RPC of DESIGN §2 exists in the served descriptors.
    @Test func theWholeContractIsServed() throws {
        let contract: [String: [String]] = [
            "AuthService": ["Register", "Login", "Refresh", "Logout", "Me", "VerifyToken", "SendResetCode", "ResetPassword", "ChangePassword"],
            "AdminService": ["ListUsers", "SetUserRole", "DisableUser", "ListJobs", "RetryJob", "RotateMasterKey"],
            "ImageService": ["Upload", "CreateUploadSession", "UploadChunks", "GetUploadSession", "FinishUpload", "GetImage", "ListImages", "Download", "UpdateMetadata", "AnalyzeImage", "DeleteImage", "RestoreImage", "WatchImages"],
            "SearchService": ["Search", "SimilarImages", "SearchByFace"],
            "AlbumService": ["CreateAlbum", "GetAlbum", "ListAlbums", "UpdateAlbum", "DeleteAlbum", "AddImages", "RemoveImages", "ListAlbumImages", "GenerateAlbums", "ListByLocation", "ListByDate"],
            "PeopleService": ["ListPeople", "GetPerson", "UpdatePerson", "MergePeople", "ListPersonImages", "ReassignFace", "Recluster"],
            "EventService": ["CreateEvent", "GetEvent", "ListEvents", "AddEventImages", "CreateShareLink", "RevokeShareLink", "ListShareLinks", "OpenSharedEvent", "FindMyPhotos"],
            "DashboardService": ["GetStats", "GetRecentActivity", "GetStorageAnalysis", "GetPersonAnalysis", "GetLocationAnalysis"],
        ]
        let data = try #require(Data(base64Encoded: PhotoVaultDescriptorSet.base64, options: .ignoreUnknownCharacters))
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: data)
        var served: [String: [String]] = [:]
        for file in set.file where file.package == "photovault.v1" {
            for service in file.service { served[service.name] = service.method.map(\.name) }
        }
        for (service, methods) in contract {
            #expect(Set(served[service] ?? []).isSuperset(of: Set(methods)), "\(service)")
        }
        let inference = set.file.first { $0.package == "photovault.inference.v1" }
        #expect(inference?.service.first?.method.map(\.name).sorted() == ["Analyze", "EmbedText", "ListModels"])
    }
}

@Suite("Generated code")
struct GeneratedCodeTests {
    /// The committed descriptor set equals what Debian's protoc makes of today's .proto files,
    /// so a .proto edited without running scripts/generate-protos.sh fails here.
    @Test func committedDescriptorSetMatchesTheProtoFiles() throws {
        let script = TestPostgres.projectRoot.appendingPathComponent("scripts/descriptor-set.sh").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("descriptors-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try ChildProcess.run("/bin/bash", ["-c", "'\(script)' > '\(output.path)'"], environment: ProcessInfo.processInfo.environment, outputFile: "/dev/null")
        try #require(status == 0, "scripts/descriptor-set.sh failed; is protobuf-compiler installed?")
        let fresh = try Data(contentsOf: output)
        let committed = try #require(Data(base64Encoded: PhotoVaultDescriptorSet.base64, options: .ignoreUnknownCharacters))
        #expect(fresh == committed, "Protos/ changed without regenerating: run scripts/generate-protos.sh")
    }

    /// The generated Swift files are byte for byte what the generator wrote.
    @Test func generatedSwiftWasNotEditedByHand() throws {
        let folder = TestPostgres.projectRoot.appendingPathComponent("Sources/PhotoVaultProto")
        let manifest = try String(contentsOf: folder.appendingPathComponent("GENERATED.sha256"), encoding: .utf8)
        var listed: Set<String> = []
        for line in manifest.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let path = parts[1]
            listed.insert(path)
            let data = try Data(contentsOf: folder.appendingPathComponent(path))
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            #expect(digest == parts[0], "\(path) differs from what the generator wrote")
        }
        let present = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("Generated").path)
        #expect(Set(present.map { "Generated/" + $0 }) == listed)
    }
}

@Suite("Configuration")
struct ConfigTests {
    @Test func defaultsAreSane() throws {
        let config = try APIConfig.load(environment: [:])
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 50051)
        #expect(config.databaseURL == nil)
        #expect(config.argon2 == .owasp)
        #expect(config.accessTokenLifetime == .seconds(900))
    }

    @Test func flagsWinOverVariables() throws {
        let config = try APIConfig.load(environment: ["PHOTOVAULT_PORT": "6000"], overrides: ["PHOTOVAULT_PORT": "7000"])
        #expect(config.port == 7000)
    }

    @Test func everyBadValueIsNamedInOneGo() throws {
        let environment = [
            "PHOTOVAULT_PORT": "seventy",
            "PHOTOVAULT_DATABASE_URL": "mysql://nope",
            "PHOTOVAULT_ACCESS_TOKEN_TTL": "1s",
            "PHOTOVAULT_RATE_LOGIN_ACCOUNT": "lots",
            "PHOTOVAULT_SMTP_URL": "http://mail",
            "PHOTOVAULT_SMTP_TLS": "maybe",
            "PHOTOVAULT_JWT_KEYS": "k1:c2hvcnQ=",
            "PHOTOVAULT_LOG_LEVEL": "loud",
        ]
        do {
            _ = try APIConfig.load(environment: environment)
            Issue.record("a bad configuration was accepted")
        } catch let problems as APIConfig.Problems {
            let text = problems.description
            #expect(problems.problems.count == 8, "\(text)")
            for name in ["PHOTOVAULT_PORT", "PHOTOVAULT_DATABASE_URL", "PHOTOVAULT_ACCESS_TOKEN_TTL", "PHOTOVAULT_RATE_LOGIN_ACCOUNT", "PHOTOVAULT_SMTP_URL", "PHOTOVAULT_SMTP_TLS", "PHOTOVAULT_LOG_LEVEL"] {
                #expect(text.contains(name), "\(name) missing from: \(text)")
            }
            #expect(text.contains("JWT key 'k1' must be base64 of at least 32 random bytes."))
        }
    }

    @Test func badImageAndStorageSettingsAreNamed() throws {
        let environment = [
            "PHOTOVAULT_MAX_UPLOAD_MB": "0",
            "PHOTOVAULT_MAX_PIXELS": "lots",
            "PHOTOVAULT_UPLOAD_SESSION_TTL": "5s",
            "PHOTOVAULT_WORKERS": "-1",
            "PHOTOVAULT_S3_BUCKET": "photos",
            "PHOTOVAULT_S3_ENDPOINT": "ftp://files",
            "PHOTOVAULT_MASTER_KEYS": "1:c2hvcnQ=",
        ]
        do {
            _ = try APIConfig.load(environment: environment)
            Issue.record("a bad configuration was accepted")
        } catch let problems as APIConfig.Problems {
            let text = problems.description
            for name in [
                "PHOTOVAULT_MAX_UPLOAD_MB", "PHOTOVAULT_MAX_PIXELS", "PHOTOVAULT_UPLOAD_SESSION_TTL", "PHOTOVAULT_WORKERS",
                "PHOTOVAULT_S3_ACCESS_KEY_ID", "PHOTOVAULT_S3_ENDPOINT", "PHOTOVAULT_MASTER_KEYS",
            ] {
                #expect(text.contains(name), "\(name) missing from: \(text)")
            }
        }
        let good = try APIConfig.load(environment: [
            "PHOTOVAULT_MAX_UPLOAD_MB": "50", "PHOTOVAULT_TRASH_RETENTION": "7d", "PHOTOVAULT_S3_BUCKET": "photos",
            "PHOTOVAULT_S3_ACCESS_KEY_ID": "AKIA", "PHOTOVAULT_S3_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENG", "PHOTOVAULT_S3_PATH_STYLE": "false",
        ])
        #expect(good.imageLimits.maxBytes == 50 * 1024 * 1024 && good.imageLimits.trashRetention == .seconds(7 * 86400))
        #expect(good.s3?.bucket == "photos" && good.s3?.usePathStyle == false && good.s3?.region == "us-east-1")
        #expect(good.s3.map { !"\($0)".contains("wJalrXUtnFEMIK7MDENG") } == true)
    }

    @Test func databaseURLsCoverTCPAndSockets() throws {
        let tcp = try DatabaseURL.configuration(from: "postgres://pv:s%40cret@db.example.com:6543/photos?sslmode=disable")
        #expect(tcp.host == "db.example.com")
        #expect(tcp.port == 6543)
        #expect(tcp.username == "pv")
        #expect(tcp.password == "s@cret")
        #expect(tcp.database == "photos")
        let socket = try DatabaseURL.configuration(from: "postgresql:///photos?host=/var/run/postgresql&user=me")
        #expect(socket.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
        #expect(socket.username == "me")
    }

    @Test func aDatabaseURLReachesARealServer() async throws {
        try await withTestAPI { api in
            let socket = try #require(api.databaseConfiguration.unixSocketPath)
            let folder = URL(fileURLWithPath: socket).deletingLastPathComponent().path
            let database = try #require(api.databaseConfiguration.database)
            let configuration = try DatabaseURL.configuration(from: "postgres:///\(database)?host=\(folder)&user=photovault")
            let one = try await TestPostgres.withDatabase(configuration) { try await $0.row("SELECT 1") { try $0.decode(Int.self) } }
            #expect(one == 1)
        }
    }

    @Test func signingKeysRotateWithTheFirstOneSigning() throws {
        let keys = try SigningKeys.parse(pairs: "# comment, with a comma\nnew " + Data(repeating: 1, count: 32).base64EncodedString() + "\nold:" + Data(repeating: 2, count: 40).base64EncodedString())
        #expect(keys.keys.map(\.id) == ["new", "old"])
        #expect(keys.signing.id == "new")
        #expect(throws: APIConfig.Problem.self) { try SigningKeys.parse(pairs: "a:\(Data(repeating: 1, count: 32).base64EncodedString()),a:\(Data(repeating: 1, count: 32).base64EncodedString())") }
    }

    @Test func aCreatedKeyFileIsPrivate() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)/jwt-keys")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let (created, isNew) = try SigningKeys.loadOrCreate(file: file)
        #expect(isNew)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (again, isNewAgain) = try SigningKeys.loadOrCreate(file: file)
        #expect(!isNewAgain)
        #expect(again.signing.secret == created.signing.secret)
    }

    @Test func peerAddressesLoseTheirPorts() {
        #expect(CallContext.address(ofPeer: "ipv4:127.0.0.1:5555") == "127.0.0.1")
        #expect(CallContext.address(ofPeer: "ipv6:[::1]:5555") == "::1")
        #expect(CallContext.address(ofPeer: "unix:/tmp/socket") == "unix")
        #expect(CallContext.sanitisedRequestID("abc-123") == "abc-123")
        #expect(CallContext.sanitisedRequestID("evil\nlog line") == nil)
    }
}

@Suite("Migrations")
struct MigrationTests {
    @Test func migratingAgainChangesNothing() async throws {
        try await withTestAPI { api in
            let applied = try await Migrator(database: api.database, logger: TestPostgres.logger).migrate()
            #expect(applied.isEmpty)
            let versions = try await api.database.rows("SELECT version FROM schema_migrations ORDER BY version") { try $0.decode(Int.self) }
            #expect(versions == Migrations.all.map(\.version))
            let vector = try await api.database.row("SELECT extversion FROM pg_extension WHERE extname = 'vector'") { try $0.decode(String.self) }
            #expect(vector != nil)
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() async throws {
        try await withTestAPI { api in
            let broken = Migration(version: 9999, name: "broken", sql: """
                CREATE TABLE half_done (id integer);
                SELECT no_such_function();
                """)
            let migrator = Migrator(database: api.database, migrations: Migrations.all + [broken], logger: TestPostgres.logger)
            await #expect(throws: (any Error).self) { try await migrator.migrate() }
            let table = try await api.database.row("SELECT to_regclass('half_done')::text") { try $0.decode(String?.self) }
            #expect(table == .some(nil))
            let recorded = try await api.database.row("SELECT count(*) FROM schema_migrations WHERE version = 9999") { try $0.decode(Int.self) }
            #expect(recorded == 0)
        }
    }

    @Test func housekeepingDeletesOnlyWhatStoppedMattering() async throws {
        try await withTestAPI { api in
            let old = try await api.register("old@example.com")
            let current = try await api.login("old@example.com")
            try await api.database.execute("""
                UPDATE auth_sessions SET revoked_at = now() - interval '8 days'
                WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = decode(\(SessionRepository.digest(old.refreshToken)), 'hex'))
                """)
            try await RateLimiter(database: api.database).hit("stale", limit: RateLimit(5, per: .seconds(60)), what: "x")
            try await RateLimiter(database: api.database).hit("fresh", limit: RateLimit(5, per: .seconds(60)), what: "x")
            try await api.database.execute("UPDATE rate_limits SET window_start = now() - interval '3 days' WHERE key = 'stale'")

            try await Housekeeping(database: api.database, logger: TestPostgres.logger).sweep()

            let sessions = try await api.database.row("SELECT count(*) FROM auth_sessions") { try $0.decode(Int.self) }
            #expect(sessions == 1)
            let tokens = try await api.database.row("SELECT count(*) FROM refresh_tokens") { try $0.decode(Int.self) }
            #expect(tokens == 1)
            let keys = try await api.database.rows("SELECT key FROM rate_limits WHERE key IN ('stale', 'fresh') ORDER BY key") { try $0.decode(String.self) }
            #expect(keys == ["fresh"])
            _ = try await api.me(current.accessToken)
        }
    }

    @Test func scriptsSplitIntoStatementsKeepingFunctionBodiesWhole() {
        let statements = Transaction.statements(in: """
            -- a comment
            CREATE TABLE a (id int);
            CREATE FUNCTION f() RETURNS int AS $$
            BEGIN
              RETURN 1;
            END;
            $$ LANGUAGE plpgsql;
            SELECT 1
            """)
        #expect(statements.count == 3)
        #expect(statements[1].hasSuffix("LANGUAGE plpgsql;"))
    }
}
