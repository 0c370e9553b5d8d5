import GRPCCore
import PhotoVaultProto

/// `photovault.v1.DashboardService`. Every RPC answers UNIMPLEMENTED until the dashboard issue (#7) lands;
/// the RPC names and messages are already the contract of `Protos/photovault/v1`.
public struct DashboardServiceHandler: Photovault_V1_DashboardService.SimpleServiceProtocol {
    public init() {}

    public func getStats(
        request: Photovault_V1_GetStatsRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetStatsResponse {
        throw APIError.unimplemented("DashboardService.GetStats")
    }

    public func getRecentActivity(
        request: Photovault_V1_GetRecentActivityRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetRecentActivityResponse {
        throw APIError.unimplemented("DashboardService.GetRecentActivity")
    }

    public func getStorageAnalysis(
        request: Photovault_V1_GetStorageAnalysisRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetStorageAnalysisResponse {
        throw APIError.unimplemented("DashboardService.GetStorageAnalysis")
    }

    public func getPersonAnalysis(
        request: Photovault_V1_GetPersonAnalysisRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetPersonAnalysisResponse {
        throw APIError.unimplemented("DashboardService.GetPersonAnalysis")
    }

    public func getLocationAnalysis(
        request: Photovault_V1_GetLocationAnalysisRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetLocationAnalysisResponse {
        throw APIError.unimplemented("DashboardService.GetLocationAnalysis")
    }
}
