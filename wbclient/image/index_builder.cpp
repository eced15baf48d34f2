#include "wbclient/image/index_builder.hpp"

#include "wbclient/model/platform.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace wbclient {

BuiltIndex assemble_index(IndexFormat format, const std::vector<Descriptor>& children) {
    const bool oci = format == IndexFormat::oci_index;
    const std::string_view index_type = oci ? media_type::oci_index : media_type::docker_manifest_list;
    const std::string_view child_type = oci ? media_type::oci_manifest : media_type::docker_manifest;

    nlohmann::json entries = nlohmann::json::array();
    std::vector<Platform> seen;
    for (const Descriptor& child : children) {
        if (child.media_type != child_type)
            throw std::invalid_argument("child " + child.digest.str() + " is a " + child.media_type +
                                        "; a " + std::string(index_type) + " lists " + std::string(child_type));
        if (!child.platform || child.platform->os.empty() || child.platform->architecture.empty())
            throw std::invalid_argument("child " + child.digest.str() + " has no platform (os and architecture)");
        for (const Platform& earlier : seen)
            if (platform_matches(earlier, *child.platform))
                throw std::invalid_argument("two children are for " + platform_string(*child.platform));
        seen.push_back(*child.platform);
        entries.push_back(descriptor_to_json(child));
    }
    // Keys come out sorted, so the bytes, and the digest, never depend on the order of the code.
    const nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", index_type}, {"manifests", entries}};
    std::string bytes = index.dump(3);
    const Descriptor descriptor = descriptor_of(index_type, bytes);
    return BuiltIndex{.bytes = std::move(bytes), .descriptor = descriptor};
}

}  // namespace wbclient
