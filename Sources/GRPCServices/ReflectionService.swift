import Foundation
import GRPCCore
import PhotoVaultProto
import SwiftProtobuf

/// The files and symbols of a descriptor set, indexed for server reflection.
public struct DescriptorIndex: Sendable {
    /// Each file's serialized `FileDescriptorProto`, by file name.
    let files: [String: Data]
    /// Each file's direct dependencies, by file name.
    let dependencies: [String: [String]]
    /// The file that declares each fully-qualified symbol (messages, enums, services, methods, fields of extensions).
    let fileOfSymbol: [String: String]
    /// The extension numbers declared for each extended message type.
    let extensionNumbers: [String: [Int32]]
    /// The file declaring each extension, keyed `extended.Type#number`.
    let fileOfExtension: [String: String]
    /// Services declared across the set, fully qualified.
    let services: [String]

    /// Builds the index from a serialized `google.protobuf.FileDescriptorSet`.
    public init(serializedSet: Data) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: serializedSet)
        var files: [String: Data] = [:]
        var dependencies: [String: [String]] = [:]
        var fileOfSymbol: [String: String] = [:]
        var extensionNumbers: [String: [Int32]] = [:]
        var fileOfExtension: [String: String] = [:]
        var services: [String] = []

        for file in set.file {
            // Comments are kept: grpcurl's `describe` shows them.
            files[file.name] = try file.serializedBytes()
            dependencies[file.name] = file.dependency
            let prefix = file.package.isEmpty ? "" : file.package + "."
            func add(_ name: String) { fileOfSymbol[name] = file.name }
            func addExtension(_ field: Google_Protobuf_FieldDescriptorProto, scope: String) {
                add(scope + field.name)
                let extended = String(field.extendee.drop(while: { $0 == "." }))
                extensionNumbers[extended, default: []].append(field.number)
                fileOfExtension["\(extended)#\(field.number)"] = file.name
            }
            func addMessage(_ message: Google_Protobuf_DescriptorProto, scope: String) {
                let name = scope + message.name
                add(name)
                for nested in message.nestedType { addMessage(nested, scope: name + ".") }
                for nested in message.enumType { add(name + "." + nested.name) }
                for field in message.extension { addExtension(field, scope: name + ".") }
            }
            for message in file.messageType { addMessage(message, scope: prefix) }
            for enumType in file.enumType { add(prefix + enumType.name) }
            for field in file.extension { addExtension(field, scope: prefix) }
            for service in file.service {
                let name = prefix + service.name
                add(name)
                services.append(name)
                for method in service.method { add(name + "." + method.name) }
            }
        }
        self.files = files
        self.dependencies = dependencies
        self.fileOfSymbol = fileOfSymbol
        self.extensionNumbers = extensionNumbers
        self.fileOfExtension = fileOfExtension
        self.services = services
    }

    /// The project's own descriptor set, committed by `scripts/generate-protos.sh`.
    public static func photoVault() throws -> DescriptorIndex {
        guard let data = Data(base64Encoded: PhotoVaultDescriptorSet.base64, options: .ignoreUnknownCharacters) else {
            throw RPCError(code: .internalError, message: "The committed descriptor set is not valid base64.")
        }
        return try DescriptorIndex(serializedSet: data)
    }

    /// A file followed by everything it imports, directly or not, each once.
    func fileWithDependencies(_ name: String) -> [Data]? {
        guard files[name] != nil else { return nil }
        var ordered: [Data] = []
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.popLast() {
            guard seen.insert(next).inserted, let bytes = files[next] else { continue }
            ordered.append(bytes)
            pending.append(contentsOf: dependencies[next] ?? [])
        }
        return ordered
    }
}

/// `grpc.reflection.v1.ServerReflection`, so grpcurl and grpcio clients need no .proto files.
///
/// It lists only the services the server really serves, but answers for any file of the set.
public struct ReflectionService: Grpc_Reflection_V1_ServerReflection.SimpleServiceProtocol {
    private let index: DescriptorIndex
    private let servedServices: [String]

    /// - Parameter servedServices: fully-qualified names of the services this server registers.
    public init(index: DescriptorIndex, servedServices: [String]) {
        self.index = index
        self.servedServices = servedServices
    }

    public func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1_ServerReflectionResponse>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            try await response.write(answer(message))
        }
    }

    /// Answers one reflection request; unknown names get an in-band NOT_FOUND, as the protocol wants.
    func answer(_ request: Grpc_Reflection_V1_ServerReflectionRequest) -> Grpc_Reflection_V1_ServerReflectionResponse {
        var reply = Grpc_Reflection_V1_ServerReflectionResponse()
        reply.validHost = request.host
        reply.originalRequest = request

        func files(_ data: [Data]?, missing: String) {
            if let data {
                reply.fileDescriptorResponse = .with { $0.fileDescriptorProto = data }
            } else {
                reply.errorResponse = .with {
                    $0.errorCode = Int32(RPCError.Code.notFound.rawValue)
                    $0.errorMessage = missing
                }
            }
        }

        switch request.messageRequest {
        case .fileByFilename(let name):
            files(index.fileWithDependencies(name), missing: "No file named '\(name)'.")
        case .fileContainingSymbol(let symbol):
            let file = index.fileOfSymbol[symbol]
            files(file.flatMap(index.fileWithDependencies), missing: "No symbol named '\(symbol)'.")
        case .fileContainingExtension(let request):
            let file = index.fileOfExtension["\(request.containingType)#\(request.extensionNumber)"]
            files(file.flatMap(index.fileWithDependencies), missing: "No extension \(request.extensionNumber) of '\(request.containingType)'.")
        case .allExtensionNumbersOfType(let type):
            if index.fileOfSymbol[type] != nil {
                reply.allExtensionNumbersResponse = .with {
                    $0.baseTypeName = type
                    $0.extensionNumber = index.extensionNumbers[type] ?? []
                }
            } else {
                files(nil, missing: "No message type named '\(type)'.")
            }
        case .listServices:
            reply.listServicesResponse = .with {
                $0.service = servedServices.map { name in .with { $0.name = name } }
            }
        case .none:
            reply.errorResponse = .with {
                $0.errorCode = Int32(RPCError.Code.invalidArgument.rawValue)
                $0.errorMessage = "The reflection request names no question."
            }
        }
        return reply
    }
}

/// `grpc.reflection.v1alpha.ServerReflection`, which Python's grpcio-reflection client uses.
///
/// The v1alpha messages are the v1 messages under another package name, byte for byte, so
/// each request is re-read as v1, answered by ``ReflectionService``, and re-read as v1alpha.
public struct ReflectionAlphaService: Grpc_Reflection_V1alpha_ServerReflection.SimpleServiceProtocol {
    private let v1: ReflectionService

    public init(_ v1: ReflectionService) {
        self.v1 = v1
    }

    public func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1alpha_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1alpha_ServerReflectionResponse>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            let asV1 = try Grpc_Reflection_V1_ServerReflectionRequest(serializedBytes: try message.serializedBytes() as [UInt8])
            let answer = v1.answer(asV1)
            try await response.write(.init(serializedBytes: try answer.serializedBytes() as [UInt8]))
        }
    }
}
