// Manifests (OCI distribution spec, "pulling manifests", "pushing manifests", "deleting
// manifests"): GET, HEAD, PUT and DELETE of /v2/<name>/manifests/<reference>.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wbclient {

class RegistryClient;

/// A manifest as the registry served it: the exact bytes, so digests stay stable.
struct FetchedManifest {
    std::string bytes;
    std::string media_type;
    Digest digest;
    Manifest parsed;
};

/// GET a manifest by tag or digest, asking for all four manifest types. The bytes are
/// checked against the digest asked for, or else against Docker-Content-Digest.
FetchedManifest get_manifest(RegistryClient& client, std::string_view repository, std::string_view reference);

/// What a tag or digest points at, from headers alone.
struct ManifestSummary {
    Digest digest;           ///< Docker-Content-Digest
    std::string media_type;  ///< Content-Type
    std::uint64_t size = 0;  ///< Content-Length: the manifest's own bytes
};

/// HEAD `/v2/<name>/manifests/<reference>` with every manifest type in Accept, so the digest
/// is that of the manifest as pushed (not a schema1 rewrite). No body is downloaded.
ManifestSummary head_manifest(RegistryClient& client, std::string_view repository, std::string_view reference);

/// PUT a manifest under a tag or digest; returns the digest the registry computed, after
/// checking it equals the digest of `bytes`.
Digest put_manifest(RegistryClient& client, std::string_view repository, std::string_view reference,
                    std::string_view media_type, const std::string& bytes);

/// A manifest PUT's answer beyond its 201: the digest, and the OCI-Subject header, which an
/// OCI 1.1 registry sends when it read the manifest's `subject` and so lists the manifest in
/// its referrers API itself. Without it (registry 2.8.2) the client that pushed the manifest
/// must add it to the referrers tag (transfer/referrers_tag.hpp).
struct PutManifestAnswer {
    Digest digest;
    std::optional<std::string> oci_subject;
};

/// put_manifest, keeping what the answer said about the subject.
PutManifestAnswer put_manifest_answer(RegistryClient& client, std::string_view repository, std::string_view reference,
                                      std::string_view media_type, const std::string& bytes);

/// DELETE `/v2/<name>/manifests/<digest>`: 202 removes the manifest from the repository and
/// every tag that points at it. The bytes stay on disk until a garbage collection. Throws
/// RegistryError, with what the refusal means (explain_delete_refusal), for any other answer.
void delete_manifest(RegistryClient& client, std::string_view repository, const Digest& digest);

/// Deletes the manifest that `reference` (a tag or a digest) names. A registry deletes
/// manifests by digest only, so a tag is first resolved with HEAD (Docker-Content-Digest).
/// Returns the digest deleted; every other tag pointing at it is gone too.
Digest delete_manifest(RegistryClient& client, std::string_view repository, std::string_view reference);

}  // namespace wbclient
