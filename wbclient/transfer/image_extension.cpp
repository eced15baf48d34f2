#include "wbclient/transfer/image_extension.hpp"
#include "wbclient/model/files.hpp"
#include "wbclient/image/oci_layout.hpp"

#include "wbclient/transfer/transfer_plan.hpp"
#include "wbclient/transfer/transfer_pool.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

namespace wbclient {
namespace fs = std::filesystem;

BaseImage pull_base_image(RegistryClient& registry, const Reference& reference,
                          const fs::path& layout, const BlobObserver& observe) {
    const Digest digest = pull_to_layout(registry, reference, layout, observe);
    // From here on the base is read locally, as `docker build` reads it from its own store.
    std::string manifest = read_file(layout_blob_path(layout, digest));
    const auto index = nlohmann::json::parse(read_file(layout / "index.json"));
    const std::string media_type = index.at("manifests").at(0).at("mediaType").get<std::string>();
    Manifest parsed = Manifest::parse(manifest, media_type);
    if (parsed.is_index())
        throw std::invalid_argument(
            reference.str() + " is an index of " + std::to_string(parsed.manifests.size()) +
            " manifests; name one platform's manifest by digest as the base");
    std::string config = read_file(layout_blob_path(layout, parsed.config->digest));
    return BaseImage{
        .reference = reference,
        .manifest_blob = {.media_type = media_type, .digest = digest, .size = manifest.size()},
        .manifest = std::move(manifest),
        .parsed = std::move(parsed),
        .config = std::move(config),
        .layout = layout};
}

std::string_view layer_media_type_for(const BaseImage& base) {
    return base.parsed.media_type == media_type::docker_manifest ? media_type::docker_layer_gzip
                                                                 : media_type::oci_layer_gzip;
}

BuiltImage extend_image(const BaseImage& base, const Extension& extension) {
    if (extension.layer.blob.media_type != layer_media_type_for(base))
        throw std::invalid_argument("layer " + extension.layer.blob.digest.str() +
                                    " has media type " + extension.layer.blob.media_type +
                                    ", but a " + base.parsed.media_type + " base needs " +
                                    std::string(layer_media_type_for(base)));
    // ordered_json keeps the base's keys in the base's order: only what we change changes.
    nlohmann::ordered_json config = nlohmann::ordered_json::parse(base.config);
    nlohmann::ordered_json& diff_ids = config["rootfs"]["diff_ids"];
    if (!diff_ids.is_array() || diff_ids.size() != base.parsed.layers.size())
        throw std::invalid_argument("the base's config lists " + std::to_string(diff_ids.size()) +
                                    " diff_ids for " + std::to_string(base.parsed.layers.size()) +
                                    " layers");

    // The base's layers: the same blobs, read from where the base was pulled.
    std::vector<ImageLayer> layers;
    for (std::size_t i = 0; i < base.parsed.layers.size(); ++i) {
        const Descriptor& blob = base.parsed.layers[i];
        layers.push_back({.built = {.file = layout_blob_path(base.layout, blob.digest),
                                    .blob = blob,
                                    .diff_id = Digest::parse(diff_ids[i].get<std::string>())},
                          .created_by = "FROM " + base.reference.str()});
    }
    layers.push_back({.built = extension.layer, .created_by = extension.created_by});

    // `FROM base` + `COPY`: one diff_id and one history line more, the rest inherited.
    diff_ids.push_back(extension.layer.diff_id.str());
    config["history"].push_back(
        {{"created", extension.created}, {"created_by", extension.created_by}});
    config["created"] = extension.created;
    if (!extension.cmd.empty()) config["config"]["Cmd"] = extension.cmd;
    std::string config_bytes = config.dump();
    const Descriptor config_blob = descriptor_of(base.parsed.config->media_type, config_bytes);

    nlohmann::ordered_json manifest = nlohmann::ordered_json::parse(base.manifest);
    // descriptor_to_json gives a sorted json; round-trip it into the ordered kind.
    const auto ordered = [](const Descriptor& d) {
        return nlohmann::ordered_json::parse(descriptor_to_json(d).dump());
    };
    manifest["config"] = ordered(config_blob);
    manifest["layers"].push_back(ordered(extension.layer.blob));
    std::string manifest_bytes = manifest.dump(3);
    const Descriptor manifest_blob = descriptor_of(base.parsed.media_type, manifest_bytes);
    return BuiltImage{.layers = std::move(layers),
                      .config = std::move(config_bytes),
                      .config_blob = config_blob,
                      .manifest = std::move(manifest_bytes),
                      .manifest_blob = manifest_blob};
}

Digest push_extending_image(RegistryClient& registry, const Reference& destination,
                            const BuiltImage& image, const BaseImage& base, PushMode mode,
                            const BlobObserver& observe) {
    // Blobs in manifest order, one after another, each made present by ensure_blob (or, for
    // upload_everything, sent without a question); the manifest only after every blob.
    TransferPlan plan = plan_built_image(image, mode == PushMode::reuse_layers);
    // A mount only works within one registry, and only for blobs the base's repository has.
    if (mode == PushMode::reuse_layers && destination.registry == base.reference.registry) {
        std::set<std::string> in_base;
        for (const Descriptor& layer : base.parsed.layers) in_base.insert(layer.digest.str());
        for (std::size_t i = 0; i < image.layers.size(); ++i)
            if (in_base.contains(plan.blobs[i].blob.digest.str())) plan.blobs[i].mount_from = base.reference.repository;
    }
    return push_plan(plan, registry, destination, TransferOptions{.parallel_blobs = 1, .observe = observe});
}

}  // namespace wbclient
