// The referrers API (OCI distribution spec 1.1, "listing referrers"):
// GET /v2/<name>/referrers/<digest>[?artifactType=<type>], an image index of every manifest
// whose `subject` is <digest>. Registries older than 1.1 (distribution 2.8.2) have no such
// route; a client then falls back to the referrers tag schema (transfer/referrers_tag.hpp).
#pragma once

#include "wbclient/http/http.hpp"
#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace wbclient {

class RegistryClient;

/// What the registry answered to the referrers request, kept whole: a 1.1 registry's index,
/// or the 404 that means "no referrers API here" (the spec tells the client to fall back on
/// it), with the status, headers and body exactly as they came.
struct ReferrersAnswer {
    long status = 0;
    std::string reason;
    Headers headers;
    std::string body;
    /// The referrers, when the registry has the API (200 and an image index).
    std::optional<Manifest> index;
    /// Whether the registry applied the artifactType filter itself (OCI-Filters-Applied); when
    /// it did not, the client filters the index.
    bool filtered = false;

    bool supported() const { return index.has_value(); }
};

/// GET `/v2/<name>/referrers/<subject>`, with `?artifactType=` when `artifact_type` is given.
/// 200 with an image index: supported. 404: no referrers API, to fall back on. Any other
/// status is a RegistryError; a 200 that is not an image index a std::runtime_error.
ReferrersAnswer get_referrers(RegistryClient& client, std::string_view repository, const Digest& subject,
                              std::string_view artifact_type = {});

}  // namespace wbclient
