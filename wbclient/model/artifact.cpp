#include "wbclient/model/artifact.hpp"

#include "wbclient/model/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace wbclient {

Descriptor empty_config_descriptor() { return descriptor_of(media_type::oci_empty, empty_config_bytes); }

//! [artifact_manifest]
std::string artifact_manifest(const ArtifactSpec& spec) {
    if (spec.artifact_type.empty()) throw std::invalid_argument("an artifact needs an artifactType");
    if (spec.blobs.empty()) throw std::invalid_argument("an artifact needs at least one blob");
    nlohmann::json manifest = {{"schemaVersion", 2},
                                       {"mediaType", media_type::oci_manifest},
                                       {"artifactType", spec.artifact_type},
                                       {"config", descriptor_to_json(empty_config_descriptor())},
                                       {"layers", nlohmann::json::array()}};
    for (const Descriptor& blob : spec.blobs) manifest["layers"].push_back(descriptor_to_json(blob));
    // The subject is what makes it a referrer: the manifest it talks about, by descriptor.
    manifest["subject"] = descriptor_to_json(spec.subject);
    if (!spec.annotations.empty()) manifest["annotations"] = spec.annotations;
    return manifest.dump();
}
//! [artifact_manifest]

Descriptor referrer_descriptor(const Descriptor& manifest, const ArtifactSpec& spec) {
    Descriptor referrer = manifest;
    referrer.artifact_type = spec.artifact_type;
    referrer.annotations = spec.annotations;
    return referrer;
}

//! [referrers_tag]
std::string referrers_tag(const Digest& subject) { return "sha256-" + std::string(subject.hex()); }

Digest subject_of_referrers_tag(std::string_view tag) {
    const auto dash = tag.find('-');
    if (dash == std::string_view::npos || dash == 0)
        throw InvalidReferrersTag("'" + printable(tag, 80) + "' is no referrers tag: it should be sha256-<64 hex>");
    const std::string algorithm(tag.substr(0, dash));
    if (algorithm != "sha256")
        throw InvalidReferrersTag("referrers tag '" + printable(tag, 80) + "' is for " + printable(algorithm, 20) +
                                  " digests; this client and registry 2.8.2 address content by sha256 only");
    try {
        return Digest::parse("sha256:" + std::string(tag.substr(dash + 1)));
    } catch (const std::invalid_argument&) {
        throw InvalidReferrersTag("referrers tag '" + printable(tag, 80) + "' is not sha256- and 64 lower-case hex characters");
    }
}
//! [referrers_tag]

std::string referrers_index(const std::vector<Descriptor>& referrers) {
    nlohmann::json index = {
        {"schemaVersion", 2}, {"mediaType", media_type::oci_index}, {"manifests", nlohmann::json::array()}};
    for (const Descriptor& referrer : referrers) index["manifests"].push_back(descriptor_to_json(referrer));
    return index.dump();
}

std::vector<Descriptor> referrers_of_type(const std::vector<Descriptor>& referrers, std::string_view artifact_type) {
    std::vector<Descriptor> chosen;
    std::copy_if(referrers.begin(), referrers.end(), std::back_inserter(chosen),
                 [&](const Descriptor& d) { return artifact_type.empty() || d.artifact_type == artifact_type; });
    return chosen;
}

bool names_referrer(const std::vector<Descriptor>& referrers, const Digest& digest) {
    return std::any_of(referrers.begin(), referrers.end(), [&](const Descriptor& d) { return d.digest == digest; });
}

}  // namespace wbclient
