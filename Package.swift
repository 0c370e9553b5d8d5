// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode everywhere, with the upcoming features that keep imports and
/// existentials explicit.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "PhotoVault",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "photovault-api", targets: ["APIServer"]),
        .executable(name: "photovault-inference", targets: ["InferenceServer"]),
        .executable(name: "photovault", targets: ["CLI"]),
        .executable(name: "photovault-bench", targets: ["AuthBench"]),
        .executable(name: "photovault-inference-bench", targets: ["InferenceBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        // `traits: []` keeps SwiftProtobuf from recompiling on every re-plan.
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.1"),
    ],
    targets: [
        // Generated protobuf messages and gRPC stubs (committed; see scripts/generate-protos.sh).
        .target(
            name: "PhotoVaultProto",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            exclude: ["GENERATED.sha256"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Health, reflection, request ids and server start-up shared by both servers.
        .target(
            name: "GRPCServices",
            dependencies: [
                "PhotoVaultProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Argon2id from Debian's libargon2.
        .systemLibrary(name: "CArgon2", path: "Sources/CArgon2", pkgConfig: "libargon2"),
        // SMTP through libcurl; a C shim because curl_easy_setopt is variadic.
        .target(
            name: "CMail",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // libvips and libexif from Debian; pkg-config supplies include and link flags.
        .systemLibrary(name: "CLibVips", path: "Sources/CLibVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CLibExif", path: "Sources/CLibExif", pkgConfig: "libexif", providers: [.apt(["libexif-dev"])]),
        // A C shim over libvips' variadic, GObject-based API; its header has plain C types only.
        .target(name: "CVips", dependencies: ["CLibVips", "CLibExif"]),
        // Image probing, full-decode validation, EXIF and derivatives through the shim.
        .target(name: "Media", dependencies: ["CVips"], swiftSettings: swiftSettings),
        // The front service as a library: domain code, repositories, gRPC handlers.
        .target(
            name: "API",
            dependencies: [
                "PhotoVaultProto", "GRPCServices", "CArgon2", "CMail", "Media",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "APIServer",
            dependencies: [
                "API",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The inference service: model registry, dynamic batching, gRPC handler.
        .target(
            name: "Inference",
            dependencies: [
                "PhotoVaultProto", "GRPCServices", "InferenceCore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "InferenceServer",
            dependencies: [
                "Inference", "GRPCServices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // photovault-inference's native core (libtorch models, dlib faces, tokenizers, image
        // decoding) behind the C API of include/InferenceCore.h. C++17 because clang rejects
        // libtorch 1.13's headers in C++20; -O2 even in debug builds, as dlib's detectors are
        // header templates that crawl unoptimised. Only photovault-inference links it.
        .target(
            name: "InferenceCore",
            exclude: ["CMakeLists.txt", "bench"],
            cxxSettings: [
                .unsafeFlags(["-std=c++17", "-O2", "-isystem", "/usr/include/torch/csrc/api/include"]),
            ],
            linkerSettings: [
                .linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10"),
                .linkedLibrary("dlib"), .linkedLibrary("blas"), .linkedLibrary("lapack"),
                .linkedLibrary("webp"), .linkedLibrary("icuuc"), .linkedLibrary("icui18n"),
            ]
        ),
        // Measurements of the native models for BENCHMARKS.md (scripts/bench-inference.sh drives it).
        .executableTarget(
            name: "InferenceBench",
            dependencies: [
                "Inference", "InferenceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/InferenceBench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InferenceTests",
            dependencies: ["Inference", "InferenceCore", "PhotoVaultProto", .product(name: "Logging", package: "swift-log")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        // The `photovault` command-line client.
        .executableTarget(
            name: "CLI",
            dependencies: [
                "PhotoVaultProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Measurements for BENCHMARKS.md (scripts/bench-auth.sh and bench-images.sh drive them).
        .executableTarget(
            name: "AuthBench",
            dependencies: [
                "API", "Media", "PhotoVaultProto", "TestImages",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/AuthBench",
            swiftSettings: swiftSettings
        ),
        // Test images made at test time with the vips and exiftool tools (shared by the test targets).
        .target(name: "TestImages", dependencies: ["Media"], path: "Tests/TestImages", swiftSettings: swiftSettings),
        .testTarget(name: "MediaTests", dependencies: ["Media", "CVips", "TestImages"], swiftSettings: swiftSettings),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "PhotoVaultProto", "GRPCServices", "Media", "TestImages",
                // A real inference server runs inside the analysis tests.
                "Inference",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
