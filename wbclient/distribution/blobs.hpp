// Blobs (OCI distribution spec, "pulling blobs", "deleting blobs"): HEAD, GET and DELETE of
// /v2/<name>/blobs/<digest>. Uploads have their own file (uploads.hpp).
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/http/http.hpp"
#include "wbclient/model/manifest.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace wbclient {

class RegistryClient;

/// HEAD a blob: its size if the repository has it, nothing if it answers 404.
std::optional<std::uint64_t> blob_size(RegistryClient& client, std::string_view repository, const Digest& digest);

/// GET a blob and stream it into `sink`, hashing as it flows. Throws if the size or the
/// digest of what arrived differs from `blob`; the sink has then seen unverified bytes,
/// so it must write somewhere temporary.
void fetch_blob(RegistryClient& client, std::string_view repository, const Descriptor& blob, const BodySink& sink);

/// DELETE `/v2/<name>/blobs/<digest>`: 202 unlinks the blob from this repository only, even
/// while a manifest there still needs it; other repositories keep serving it, and its bytes
/// stay on disk until a garbage collection. Throws RegistryError, with
/// what the refusal means (explain_delete_refusal), for any other answer.
void delete_blob(RegistryClient& client, std::string_view repository, const Digest& digest);

}  // namespace wbclient
