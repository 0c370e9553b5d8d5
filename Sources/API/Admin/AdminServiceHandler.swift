import Foundation
import GRPCCore
import PhotoVaultProto

/// `photovault.v1.AdminService`. Users are managed here; jobs and keys arrive with the images issue (#3).
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
        throw APIError.unimplemented("AdminService.ListJobs")
    }

    public func retryJob(request: Photovault_V1_RetryJobRequest, context: ServerContext) async throws -> Photovault_V1_Job {
        _ = try await admin()
        throw APIError.unimplemented("AdminService.RetryJob")
    }

    public func rotateMasterKey(request: Photovault_V1_RotateMasterKeyRequest, context: ServerContext) async throws -> Photovault_V1_RotateMasterKeyResponse {
        _ = try await admin()
        throw APIError.unimplemented("AdminService.RotateMasterKey")
    }
}
