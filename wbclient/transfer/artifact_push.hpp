// Pushing an OCI 1.1 artifact: its blobs, the empty config, its manifest with `subject`, and,
// where the registry does not keep referrers itself (no OCI-Subject in the PUT's answer, as on
// 2.8.2), the subject's referrers tag.
#pragma once

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/model/artifact.hpp"
#include "wbclient/transfer/referrers_tag.hpp"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// The artifact's subject is not a manifest of the repository. Registry 2.8.2 would store the
/// artifact anyway (it never reads `subject`), leaving a referrer of nothing; the client checks
/// first. The message is one line.
class SubjectNotFound : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One blob of an artifact, in memory: an SBOM, a signature (small things).
struct ArtifactBlob {
    std::string media_type;
    std::string bytes;
};

struct Artifact {
    std::string artifact_type;
    Descriptor subject;  ///< the manifest it refers to: media type, digest and size
    std::vector<ArtifactBlob> blobs;
    std::map<std::string, std::string> annotations;
};

struct PushedArtifact {
    Descriptor referrer;  ///< the manifest's descriptor as a referrers index names it
    std::string manifest;  ///< the manifest's bytes
    std::optional<std::string> oci_subject;  ///< the PUT's OCI-Subject header: absent on 2.8.2
    std::optional<ReferrerAdded> referrers_tag;  ///< set when this client updated the tag
};

/// The descriptor of the manifest `digest` in `repository`, from a HEAD: what an artifact
/// names as its subject. Throws SubjectNotFound when the repository has no such manifest.
Descriptor subject_descriptor(RegistryClient& client, std::string_view repository, const Digest& digest);

/// Pushes `artifact` to `repository`: checks that its subject is there (HEAD by digest; 404 is
/// SubjectNotFound, another size or media type a std::runtime_error), uploads the empty config
/// and each blob unless the repository has it, PUTs the manifest by digest and, if the answer
/// has no OCI-Subject and `update_referrers_tag` is true, adds it to the subject's referrers tag
/// (add_referrer).
PushedArtifact push_artifact(RegistryClient& client, std::string_view repository, const Artifact& artifact,
                             bool update_referrers_tag = true);

}  // namespace wbclient
