// Deleting from a registry: manifests by digest (a tag is resolved first), blobs by digest,
// and what each refusal of registry 2.8.2 means.
#pragma once

#include "wbclient/digest.hpp"
#include "wbclient/http.hpp"
#include "wbclient/registry_client.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace wbclient {

/// What registry 2.8.2 means when it refuses a DELETE with this status and error code: a
/// sentence for the reader, or "" when the answer needs no more than its code. `request` is
/// the DELETE that was refused.
std::string explain_delete_refusal(const Request& request, const Response& response);

/// A registry refused a DELETE. The message is one line: the request, the status, the
/// registry's error codes, and what they mean (explain_delete_refusal).
class DeleteRefused : public std::runtime_error {
public:
    DeleteRefused(const Request& request, const Response& response);
    long status() const { return status_; }
    /// The first `errors[].code` of the body, e.g. "UNSUPPORTED", or "" if none.
    const std::string& code() const { return code_; }

private:
    DeleteRefused(const RegistryError& error, const std::string& explanation);
    long status_;
    std::string code_;
};

/// DELETE /v2/<name>/manifests/<digest>: 202 removes the manifest from the repository and
/// every tag that points at it. The bytes stay on disk until a garbage collection. Throws
/// DeleteRefused for any other answer.
void delete_manifest(RegistryClient& client, std::string_view repository, const Digest& digest);

/// Deletes the manifest that `reference` (a tag or a digest) names. A registry deletes
/// manifests by digest only, so a tag is first resolved with HEAD (Docker-Content-Digest).
/// Returns the digest deleted; every other tag pointing at it is gone too.
Digest delete_manifest(RegistryClient& client, std::string_view repository,
                       std::string_view reference);

/// DELETE /v2/<name>/blobs/<digest>: 202 unlinks the blob from this repository only, even
/// while a manifest there still needs it; other repositories keep serving it, and its bytes
/// stay on disk until a garbage collection. Throws DeleteRefused for any other answer.
void delete_blob(RegistryClient& client, std::string_view repository, const Digest& digest);

}  // namespace wbclient
