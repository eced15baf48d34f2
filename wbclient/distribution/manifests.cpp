#include "wbclient/distribution/manifests.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"

#include <optional>
#include <stdexcept>

namespace wbclient {

//! [manifest_get]
FetchedManifest get_manifest(RegistryClient& client, std::string_view repository, std::string_view reference) {
    Request request{.method = "GET", .url = client.url(repository, "manifests/" + std::string(reference))};
    request.headers.add("Accept", accept_all_manifests());
    Response response = perform_expecting(client.http(), request, {200});

    const Digest actual = digest_of(response.body);
    // Trust nothing we did not hash: a digest reference must match; a tag's answer must
    // match what the registry itself claims.
    std::optional<Digest> expected;
    if (reference.starts_with("sha256:")) expected = Digest::parse(reference);
    else if (auto header = response.headers.get("Docker-Content-Digest")) expected = Digest::parse(*header);
    if (expected && *expected != actual)
        throw DigestMismatch("manifest " + std::string(repository) + ":" + std::string(reference) + " has digest " +
                                 actual.str() + ", expected " + expected->str(),
                             *expected, actual);

    const std::string content_type = response.headers.get("Content-Type").value_or("");
    Manifest parsed = Manifest::parse(response.body, content_type);
    return FetchedManifest{.bytes = std::move(response.body),
                           .media_type = parsed.media_type,
                           .digest = actual,
                           .parsed = std::move(parsed)};
}
//! [manifest_get]

ManifestSummary head_manifest(RegistryClient& client, std::string_view repository, std::string_view reference) {
    Request request{.method = "HEAD", .url = client.url(repository, "manifests/" + std::string(reference))};
    request.headers.add("Accept", accept_all_manifests());
    const Response response = perform_expecting(client.http(), request, {200});
    const auto digest = response.headers.get("Docker-Content-Digest");
    const auto length = response.headers.get("Content-Length");
    if (!digest || !length)
        throw std::runtime_error("HEAD " + request.url + ": no Docker-Content-Digest or Content-Length in the answer");
    std::uint64_t size = 0;
    try {
        size = std::stoull(*length);
    } catch (const std::exception&) {
        throw std::runtime_error("HEAD " + request.url + ": Content-Length '" + *length + "' is not a number");
    }
    return ManifestSummary{.digest = Digest::parse(*digest),
                           .media_type = response.headers.get("Content-Type").value_or(""),
                           .size = size};
}

//! [manifest_put]
PutManifestAnswer put_manifest_answer(RegistryClient& client, std::string_view repository, std::string_view reference,
                                      std::string_view media_type, const std::string& bytes) {
    Request request{
        .method = "PUT", .url = client.url(repository, "manifests/" + std::string(reference)), .body = bytes};
    request.headers.add("Content-Type", std::string(media_type));
    const Response response = perform_expecting(client.http(), request, {201});
    const Digest ours = digest_of(bytes);
    const auto theirs = response.headers.get("Docker-Content-Digest");
    if (theirs && Digest::parse(*theirs) != ours)
        throw DigestMismatch("registry stored manifest as " + *theirs + ", we sent " + ours.str(), ours,
                             Digest::parse(*theirs));
    return PutManifestAnswer{.digest = ours, .oci_subject = response.headers.get("OCI-Subject")};
}

Digest put_manifest(RegistryClient& client, std::string_view repository, std::string_view reference,
                    std::string_view media_type, const std::string& bytes) {
    return put_manifest_answer(client, repository, reference, media_type, bytes).digest;
}
//! [manifest_put]

void delete_manifest(RegistryClient& client, std::string_view repository, const Digest& digest) {
    const Request request{.method = "DELETE", .url = client.url(repository, "manifests/" + digest.str())};
    const Response response = client.http().perform(request);
    if (response.status != 202) throw RegistryError(request, response, explain_delete_refusal(request, response));
}

Digest delete_manifest(RegistryClient& client, std::string_view repository, std::string_view reference) {
    // Resolving the tag first is the only way: DELETE .../manifests/<tag> answers 400.
    if (Digest::is_digest(reference)) {
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

}  // namespace wbclient
