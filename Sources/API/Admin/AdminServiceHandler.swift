import Foundation
import GRPCCore
import PhotoVaultProto
import SwiftProtobuf

/// `photovault.v1.AdminService`: accounts, the job queue and master-key rotation, for admins only.
public struct AdminServiceHandler: Photovault_V1_AdminService.SimpleServiceProtocol {
    let administration: Administration
    let authenticator: Authenticator

    public init(administration: Administration, authenticator: Authenticator) {
        self.administration = administration
        self.authenticator = authenticator
    }

    private func admin() async throws -> Caller {
        let caller = try await authenticator.authenticate()
        try caller.require(.admin, to: "use AdminService")
        return caller
    }

    public func listUsers(request: Photovault_V1_ListUsersRequest, context: ServerContext) async throws -> Photovault_V1_ListUsersResponse {
        _ = try await admin()
        let page = try await administration.listUsers(pageSize: request.pageSize, pageToken: request.pageToken, query: request.query)
        return .with {
            $0.users = page.users.map(\.proto)
            $0.nextPageToken = page.nextPageToken
        }
    }

    public func setUserRole(request: Photovault_V1_SetUserRoleRequest, context: ServerContext) async throws -> Photovault_V1_User {
        _ = try await admin()
        let id = try parseID(request.userID, field: "user_id")
        let role = try Role(proto: request.role, field: "role")
        return try await administration.setRole(userID: id, role: role).proto
    }

    public func disableUser(request: Photovault_V1_DisableUserRequest, context: ServerContext) async throws -> Photovault_V1_User {
        let caller = try await admin()
        let id = try parseID(request.userID, field: "user_id")
        return try await administration.setDisabled(userID: id, disabled: request.disabled, by: caller).proto
    }

    public func listJobs(request: Photovault_V1_ListJobsRequest, context: ServerContext) async throws -> Photovault_V1_ListJobsResponse {
        _ = try await admin()
        let state: JobState? = switch request.state {
        case .queued: .queued
        case .running: .running
        case .succeeded: .succeeded
        case .failed: .failed
        case .dead: .dead
        default: nil
        }
        let (jobs, next) = try await administration.listJobs(
            pageSize: request.pageSize, pageToken: request.pageToken, state: state, kind: request.kind)
        return .with {
            $0.jobs = jobs.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func retryJob(request: Photovault_V1_RetryJobRequest, context: ServerContext) async throws -> Photovault_V1_Job {
        _ = try await admin()
        return try await administration.retryJob(id: request.jobID).proto
    }

    public func rotateMasterKey(request: Photovault_V1_RotateMasterKeyRequest, context: ServerContext) async throws -> Photovault_V1_RotateMasterKeyResponse {
        _ = try await admin()
        let (version, count) = try await administration.rotateMasterKey()
        return .with {
            $0.newKeyVersion = Int32(version)
            $0.rewrappedKeys = count
        }
    }
}

extension JobRecord {
    var proto: Photovault_V1_Job {
        .with {
            $0.id = String(id)
            $0.kind = kind
            $0.state = switch state {
            case .queued: .queued
            case .running: .running
            case .succeeded: .succeeded
            case .failed: .failed
            case .dead: .dead
            }
            $0.imageID = imageID?.lowercased ?? ""
            $0.attempts = Int32(attempts)
            $0.maxAttempts = Int32(maxAttempts)
            $0.lastError = lastError
            $0.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            $0.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
            $0.runAfter = Google_Protobuf_Timestamp(date: runAfter)
        }
    }
}
