import GRPCCore
import GRPCServices
import PhotoVaultProto
import SwiftProtobuf

/// `photovault.v1.AuthService`: checks the caller, calls ``Accounts``, maps the result.
public struct AuthServiceHandler: Photovault_V1_AuthService.SimpleServiceProtocol {
    let accounts: Accounts
    let authenticator: Authenticator

    public init(accounts: Accounts, authenticator: Authenticator) {
        self.accounts = accounts
        self.authenticator = authenticator
    }

    private var peer: String { CallContext.current?.peerAddress ?? "unknown" }

    public func register(request: Photovault_V1_RegisterRequest, context: ServerContext) async throws -> Photovault_V1_AuthResponse {
        try await accounts.register(email: request.email, password: request.password, name: request.name, peer: peer).proto
    }

    public func login(request: Photovault_V1_LoginRequest, context: ServerContext) async throws -> Photovault_V1_AuthResponse {
        try await accounts.login(email: request.email, password: request.password, peer: peer).proto
    }

    public func refresh(request: Photovault_V1_RefreshRequest, context: ServerContext) async throws -> Photovault_V1_AuthResponse {
        try await accounts.refresh(token: request.refreshToken).proto
    }

    public func logout(request: Photovault_V1_LogoutRequest, context: ServerContext) async throws -> Photovault_V1_LogoutResponse {
        let caller = try await authenticator.authenticate()
        try await accounts.logout(caller: caller, refreshToken: request.refreshToken)
        return .init()
    }

    public func me(request: Photovault_V1_MeRequest, context: ServerContext) async throws -> Photovault_V1_MeResponse {
        let caller = try await authenticator.authenticate()
        let user = accounts.me(caller: caller)
        return .with { $0.user = user.proto }
    }

    public func verifyToken(request: Photovault_V1_VerifyTokenRequest, context: ServerContext) async throws -> Photovault_V1_VerifyTokenResponse {
        switch try await accounts.verify(token: request.accessToken) {
        case .valid(let caller, let expires):
            return .with {
                $0.valid = true
                $0.userID = caller.userID.uuidString.lowercased()
                $0.role = caller.role.proto
                $0.expiresAt = Google_Protobuf_Timestamp(date: expires)
            }
        case .invalid(let reason):
            return .with {
                $0.valid = false
                $0.reason = reason
            }
        }
    }

    public func sendResetCode(request: Photovault_V1_SendResetCodeRequest, context: ServerContext) async throws -> Photovault_V1_SendResetCodeResponse {
        try await accounts.sendResetCode(email: request.email, peer: peer)
        return .init()
    }

    public func resetPassword(request: Photovault_V1_ResetPasswordRequest, context: ServerContext) async throws -> Photovault_V1_ResetPasswordResponse {
        try await accounts.resetPassword(email: request.email, code: request.code, newPassword: request.newPassword)
        return .init()
    }

    public func changePassword(request: Photovault_V1_ChangePasswordRequest, context: ServerContext) async throws -> Photovault_V1_AuthResponse {
        let caller = try await authenticator.authenticate()
        return try await accounts.changePassword(
            caller: caller, current: request.currentPassword, new: request.newPassword, peer: peer
        ).proto
    }
}
