#include "wbclient/deletion.hpp"

#include "wbclient/catalog.hpp"

namespace wbclient {
namespace {

// What follows "/manifests/" or "/blobs/" in a DELETE's URL: the tag or digest it named.
std::string reference_in(std::string_view url, std::string_view kind) {
    const auto at = url.rfind(kind);
    if (at == std::string_view::npos) return "";
    std::string_view reference = url.substr(at + kind.size());
    return std::string(reference.substr(0, reference.find_first_of("?#")));
}

bool names_a_digest(std::string_view reference) {
    try {
        Digest::parse(reference);
        return true;
    } catch (const std::invalid_argument&) {
        return false;
    }
}

}  // namespace

std::string explain_delete_refusal(const Request& request, const Response& response) {
    const std::string code = RegistryError(request, response).code();
    const std::string manifest = reference_in(request.url, "/manifests/");
    if (response.status == 405 && code == "UNSUPPORTED")
        return "deleting is switched off on this registry (storage.delete.enabled is false, as on "
               "Docker Hub)";
    if (response.status == 400 && code == "DIGEST_INVALID") {
        if (!manifest.empty() && !names_a_digest(manifest))
            return "registry 2.8.2 deletes a manifest by digest only, never by tag: HEAD '" + manifest +
                   "' for its Docker-Content-Digest and DELETE that";
        return "not a digest: 'sha256:' and 64 lower-case hex characters";
    }
    if (response.status == 404 && code == "MANIFEST_UNKNOWN")
        return "the repository has no manifest with this digest: never pushed here, or deleted already";
    if (response.status == 404 && code == "BLOB_UNKNOWN")
        return "the repository has no link to this blob: never pushed here, or unlinked already "
               "(other repositories may still hold it)";
    if (response.status == 404 && code == "NAME_UNKNOWN") return "the repository does not exist";
    if (response.status == 401 || response.status == 403)
        return "deleting needs credentials with the delete right on this repository";
    return "";
}

DeleteRefused::DeleteRefused(const Request& request, const Response& response)
    : DeleteRefused(RegistryError(request, response), explain_delete_refusal(request, response)) {}

DeleteRefused::DeleteRefused(const RegistryError& error, const std::string& explanation)
    : std::runtime_error(explanation.empty() ? std::string(error.what())
                                             : std::string(error.what()) + ": " + explanation),
      status_(error.status()),
      code_(error.code()) {}

void delete_manifest(RegistryClient& client, std::string_view repository, const Digest& digest) {
    const Request request{.method = "DELETE", .url = client.url(repository, "manifests/" + digest.str())};
    const Response response = client.http().perform(request);
    if (response.status != 202) throw DeleteRefused(request, response);
}

Digest delete_manifest(RegistryClient& client, std::string_view repository,
                       std::string_view reference) {
    // Resolving the tag first is the only way: DELETE .../manifests/<tag> answers 400.
    if (names_a_digest(reference)) {
        const Digest digest = Digest::parse(reference);
        delete_manifest(client, repository, digest);
        return digest;
    }
    Digest digest = Digest::parse("sha256:" + std::string(64, '0'));
    try {
        digest = head_manifest(client, repository, reference).digest;
    } catch (const RegistryError& error) {
        // A HEAD answer has no body to carry an error code: say what its 404 means.
        if (error.status() != 404) throw;
        throw std::runtime_error(std::string(error.what()) + ": there is no tag '" + std::string(reference) +
                                 "' in " + std::string(repository) + " to delete");
    }
    delete_manifest(client, repository, digest);
    return digest;
}

void delete_blob(RegistryClient& client, std::string_view repository, const Digest& digest) {
    const Request request{.method = "DELETE", .url = client.url(repository, "blobs/" + digest.str())};
    const Response response = client.http().perform(request);
    if (response.status != 202) throw DeleteRefused(request, response);
}

}  // namespace wbclient
