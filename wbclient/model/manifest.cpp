#include "wbclient/model/manifest.hpp"

#include "wbclient/model/text.hpp"

#include <stdexcept>

namespace wbclient {
namespace {

[[noreturn]] void reject(const std::string& why) {
    throw std::invalid_argument("invalid manifest: " + printable(why));
}

// The media type without parameters such as "; charset=utf-8".
std::string_view bare_type(std::string_view content_type) {
    const auto semicolon = content_type.find(';');
    auto type = content_type.substr(0, semicolon);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    return type;
}

}  // namespace

std::string accept_all_manifests() {
    return std::string(media_type::oci_index) + ", " + std::string(media_type::oci_manifest) +
           ", " + std::string(media_type::docker_manifest_list) + ", " +
           std::string(media_type::docker_manifest);
}

bool is_index_type(std::string_view type) {
    return type == media_type::oci_index || type == media_type::docker_manifest_list;
}

bool is_manifest_type(std::string_view type) {
    return type == media_type::oci_manifest || type == media_type::docker_manifest;
}

Descriptor descriptor_of(std::string_view media_type, std::string_view bytes) {
    return Descriptor{.media_type = std::string(media_type), .digest = digest_of(bytes), .size = bytes.size()};
}

Descriptor descriptor_from_json(const nlohmann::json& json) {
    if (!json.is_object()) reject("a descriptor is not a JSON object");
    const auto type = json.find("mediaType");
    const auto digest = json.find("digest");
    const auto size = json.find("size");
    if (type == json.end() || !type->is_string()) reject("a descriptor has no mediaType");
    if (digest == json.end() || !digest->is_string()) reject("a descriptor has no digest");
    if (size == json.end() || !size->is_number_unsigned())
        reject("a descriptor has no size, or a negative one");
    Descriptor descriptor{.media_type = type->get<std::string>(),
                          .digest = Digest::parse(digest->get<std::string>()),
                          .size = size->get<std::uint64_t>()};
    if (const auto platform = json.find("platform"); platform != json.end()) {
        if (!platform->is_object()) reject("a descriptor's platform is not an object");
        descriptor.platform = Platform{.os = platform->value("os", ""),
                                       .architecture = platform->value("architecture", ""),
                                       .variant = platform->value("variant", "")};
    }
    if (const auto type = json.find("artifactType"); type != json.end()) {
        if (!type->is_string()) reject("a descriptor's artifactType is not a string");
        descriptor.artifact_type = type->get<std::string>();
    }
    if (const auto annotations = json.find("annotations"); annotations != json.end()) {
        if (!annotations->is_object()) reject("a descriptor's annotations are not an object");
        for (const auto& [key, value] : annotations->items()) {
            if (!value.is_string()) reject("the annotation " + key + " is not a string");
            descriptor.annotations[key] = value.get<std::string>();
        }
    }
    return descriptor;
}

nlohmann::json descriptor_to_json(const Descriptor& descriptor) {
    nlohmann::json json = {{"mediaType", descriptor.media_type},
                           {"digest", descriptor.digest.str()},
                           {"size", descriptor.size}};
    if (descriptor.platform) {
        json["platform"] = {{"os", descriptor.platform->os},
                            {"architecture", descriptor.platform->architecture}};
        if (!descriptor.platform->variant.empty())
            json["platform"]["variant"] = descriptor.platform->variant;
    }
    if (!descriptor.artifact_type.empty()) json["artifactType"] = descriptor.artifact_type;
    if (!descriptor.annotations.empty()) json["annotations"] = descriptor.annotations;
    return json;
}

std::vector<Descriptor> Manifest::references() const {
    if (is_index()) return manifests;
    std::vector<Descriptor> all;
    if (config) all.push_back(*config);
    all.insert(all.end(), layers.begin(), layers.end());
    return all;
}

Manifest Manifest::parse(std::string_view bytes, std::string_view content_type) {
    const auto json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) reject("the body is not JSON");
    if (!json.is_object()) reject("the body is not a JSON object");
    // Checked by type first: value() would throw nlohmann's type_error for a non-number and
    // convert an out-of-range float to int (undefined behaviour).
    const auto version = json.find("schemaVersion");
    if (version == json.end() || !version->is_number_integer() || version->get<std::int64_t>() != 2)
        reject("schemaVersion is not 2");

    // The body's own mediaType wins; OCI makes it optional, so fall back to Content-Type.
    const std::string declared = json.contains("mediaType") && json["mediaType"].is_string()
                                     ? json["mediaType"].get<std::string>()
                                     : "";
    const std::string served(bare_type(content_type));
    if (!declared.empty() && !served.empty() && declared != served)
        reject("mediaType " + declared + " contradicts Content-Type " + served);
    Manifest manifest;
    manifest.media_type = declared.empty() ? served : declared;
    if (!is_index_type(manifest.media_type) && !is_manifest_type(manifest.media_type))
        reject("unsupported media type '" + manifest.media_type + "'");

    try {
        if (const auto type = json.find("artifactType"); type != json.end()) {
            if (!type->is_string()) reject("artifactType is not a string");
            manifest.artifact_type = type->get<std::string>();
        }
        if (const auto subject = json.find("subject"); subject != json.end())
            manifest.subject = descriptor_from_json(*subject);
        if (manifest.is_index()) {
            const auto entries = json.find("manifests");
            if (entries == json.end() || !entries->is_array()) reject("an index has no manifests");
            for (const auto& entry : *entries)
                manifest.manifests.push_back(descriptor_from_json(entry));
        } else {
            const auto config = json.find("config");
            const auto layers = json.find("layers");
            if (config == json.end()) reject("no config descriptor");
            if (layers == json.end() || !layers->is_array()) reject("no layers array");
            manifest.config = descriptor_from_json(*config);
            for (const auto& layer : *layers) manifest.layers.push_back(descriptor_from_json(layer));
        }
    } catch (const nlohmann::json::exception& e) {
        reject(e.what());
    }
    return manifest;
}

}  // namespace wbclient
