import API
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PhotoVaultProto

/// `photovault-bench`: measurements for BENCHMARKS.md that need PhotoVault's own code.
/// Throughput under load is measured with h2load (see scripts/bench-auth.sh); uploads and
/// ingest by scripts/bench-images.sh.
@main
struct AuthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photovault-bench",
        abstract: "Login cost against its Argon2id baseline; derivative cost against vipsthumbnail; an upload sink.",
        subcommands: [Login.self, Derivatives.self, UploadSink.self, DashboardLatency.self, VectorSearchLatency.self, FaceClusteringLatency.self])
}

/// Login latency over gRPC, next to the cost of one Argon2id verification measured in the same run.
struct Login: AsyncParsableCommand {
    @Option(help: "API address host:port") var server = "127.0.0.1:50051"
    @Option(help: "Account to sign in with (created if missing).") var email = "loadtest@example.com"
    @Option var password = "bench passphrase 2026"
    @Option(help: "Measured repetitions.") var count = 40

    func run() async throws {
        let parts = server.split(separator: ":")
        let host = String(parts[0]), port = Int(parts[1])!
        let hasher = PasswordHasher(parameters: .owasp)
        let phc = try await hasher.hash(password)

        var argon2: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            _ = await hasher.verify(password, against: phc)
            argon2.append(Self.milliseconds(ContinuousClock.now - start))
        }

        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
        let logins = try await withGRPCClient(transport: transport) { client in
            let auth = Photovault_V1_AuthService.Client(wrapping: client)
            do {
                _ = try await auth.register(.with {
                    $0.email = email
                    $0.password = password
                    $0.name = "Bench"
                })
            } catch let error as RPCError where error.code == .alreadyExists {}
            var times: [Double] = []
            for index in 0..<(count + 3) {
                let start = ContinuousClock.now
                _ = try await auth.login(.with {
                    $0.email = email
                    $0.password = password
                })
                if index >= 3 { times.append(Self.milliseconds(ContinuousClock.now - start)) }  // 3 warm-up calls
            }
            return times
        }
        let argon2Median = Self.percentile(argon2, 0.5), loginMedian = Self.percentile(logins, 0.5)
        print(String(format: "argon2id verify (m=19456 KiB, t=2, p=1): p50 %.1f ms, p99 %.1f ms", argon2Median, Self.percentile(argon2, 0.99)))
        print(String(format: "Login RPC over loopback:               p50 %.1f ms, p99 %.1f ms", loginMedian, Self.percentile(logins, 0.99)))
        print(String(format: "ratio Login / Argon2id: %.2f (share of Login spent in Argon2id: %.0f%%)", loginMedian / argon2Median, 100 * argon2Median / loginMedian))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}
