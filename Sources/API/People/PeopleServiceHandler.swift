import Foundation
import GRPCCore
import PhotoVaultProto

/// `photovault.v1.PeopleService`: checks the caller, calls ``PeopleLibrary``, maps the result.
public struct PeopleServiceHandler: Photovault_V1_PeopleService.SimpleServiceProtocol {
    let people: PeopleLibrary
    let authenticator: Authenticator

    public init(people: PeopleLibrary, authenticator: Authenticator) {
        self.people = people
        self.authenticator = authenticator
    }

    private func owner() async throws -> UUID {
        try await authenticator.authenticate().userID
    }

    public func listPeople(request: Photovault_V1_ListPeopleRequest, context: ServerContext) async throws -> Photovault_V1_ListPeopleResponse {
        let (page, next) = try await people.list(
            owner: try await owner(), includeHidden: request.includeHidden, namedOnly: request.namedOnly,
            pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.people = page.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func getPerson(request: Photovault_V1_GetPersonRequest, context: ServerContext) async throws -> Photovault_V1_GetPersonResponse {
        let person = try await people.person(owner: try await owner(), id: request.personID)
        return .with { $0.person = person.proto }
    }

    public func updatePerson(request: Photovault_V1_UpdatePersonRequest, context: ServerContext) async throws -> Photovault_V1_UpdatePersonResponse {
        let owner = try await owner()
        var edit = PeopleLibrary.PersonEdit()
        if request.hasName { edit.name = request.name }
        if request.hasHidden { edit.hidden = request.hidden }
        if request.hasBirthDate {
            edit.birthDate = .init(year: Int(request.birthDate.year), month: Int(request.birthDate.month), day: Int(request.birthDate.day))
        }
        edit.clearBirthDate = request.clearBirthDate_p
        if request.hasCoverFaceID { edit.coverFaceID = request.coverFaceID }
        let person = try await people.update(owner: owner, id: request.personID, edit)
        return .with { $0.person = person.proto }
    }

    public func mergePeople(request: Photovault_V1_MergePeopleRequest, context: ServerContext) async throws -> Photovault_V1_MergePeopleResponse {
        let (person, moved) = try await people.merge(
            owner: try await owner(), target: request.targetPersonID, sources: request.sourcePersonIds)
        return .with {
            $0.person = person.proto
            $0.movedFaceCount = Int32(clamping: moved)
        }
    }

    public func listPersonImages(
        request: Photovault_V1_ListPersonImagesRequest, context: ServerContext
    ) async throws -> Photovault_V1_ListPersonImagesResponse {
        let (page, next) = try await people.images(
            owner: try await owner(), personID: request.personID, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.images = page.map { image, faces in
                .with {
                    $0.image = image.proto
                    $0.faces = faces.map(\.proto)
                }
            }
            $0.nextPageToken = next
        }
    }

    public func reassignFace(request: Photovault_V1_ReassignFaceRequest, context: ServerContext) async throws -> Photovault_V1_ReassignFaceResponse {
        let owner = try await owner()
        let destination: PeopleLibrary.FaceDestination
        switch (request.personID.isEmpty, request.createPerson) {
        case (false, true): throw APIError.invalid("create_person", "cannot be set together with person_id")
        case (false, false): destination = .person(request.personID)
        case (true, true): destination = .newPerson
        case (true, false): destination = .nobody
        }
        let (face, person) = try await people.reassign(owner: owner, faceID: request.faceID, to: destination)
        return .with {
            $0.face = face.proto
            if let person { $0.person = person.proto }
        }
    }

    public func recluster(request: Photovault_V1_ReclusterRequest, context: ServerContext) async throws -> Photovault_V1_ReclusterResponse {
        let queued = try await people.recluster(owner: try await owner(), full: request.full)
        return .with {
            $0.jobID = String(queued.jobID)
            $0.faceCount = Int32(clamping: queued.faces)
            $0.personCount = Int32(clamping: queued.people)
        }
    }
}
