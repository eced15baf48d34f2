// OCI 1.1 artifacts and their referrers, as values: an artifact's manifest (artifactType, the
// empty config, subject), the referrers tag schema's tag name (`sha256-<hex>`) and the image
// index it holds. No I/O: the requests are distribution/referrers.hpp's and the read-modify-
// write of the tag is transfer/referrers_tag.hpp's.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// The empty config's bytes, `{}`: an artifact whose content is all in its layers still
/// needs a config descriptor, and OCI 1.1 says to point it at these two bytes.
inline constexpr std::string_view empty_config_bytes = "{}";
/// Its descriptor: application/vnd.oci.empty.v1+json, sha256:44136fa3..., size 2.
Descriptor empty_config_descriptor();

/// What an artifact is: its type, the manifest it refers to, and its blobs (already pushed or
/// about to be). The manifest written for it is an ordinary OCI image manifest.
struct ArtifactSpec {
    std::string artifact_type;
    Descriptor subject;
    std::vector<Descriptor> blobs;
    std::map<std::string, std::string> annotations;
};

/// The artifact's manifest bytes: schemaVersion 2, mediaType OCI manifest, `artifactType`,
/// the empty config, `blobs` as its layers, `subject`, and the annotations if any. The same
/// spec always gives the same bytes. Throws std::invalid_argument for an empty artifactType
/// or no blob.
std::string artifact_manifest(const ArtifactSpec& spec);

/// How a referrers index names an artifact: the manifest's descriptor with its artifactType
/// and annotations copied in (OCI 1.1, "listing referrers").
Descriptor referrer_descriptor(const Descriptor& manifest, const ArtifactSpec& spec);

/// A tag that cannot be the referrers tag of a digest this client handles: another algorithm
/// (`sha512-...`), or not `<algorithm>-<hex>` at all. The message is one line.
class InvalidReferrersTag : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// The referrers tag schema's tag for `subject`: the digest with `:` replaced by `-`,
/// `sha256-<64 hex>` (OCI distribution spec 1.1, "referrers tag schema").
std::string referrers_tag(const Digest& subject);

/// The subject digest a referrers tag names. Throws InvalidReferrersTag for another algorithm
/// or a tag that is not `sha256-<64 lower-case hex>`.
Digest subject_of_referrers_tag(std::string_view tag);

/// The index a referrers tag holds, as JSON bytes: an OCI image index of `referrers`, in order.
std::string referrers_index(const std::vector<Descriptor>& referrers);

/// The referrers of `index` whose artifactType is `artifact_type` (all of them for "").
std::vector<Descriptor> referrers_of_type(const std::vector<Descriptor>& referrers, std::string_view artifact_type);

/// True if `referrers` names the manifest `digest`.
bool names_referrer(const std::vector<Descriptor>& referrers, const Digest& digest);

}  // namespace wbclient
