#include "wbclient/image/image_builder.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace wbclient {
namespace fs = std::filesystem;

ImageMediaTypes media_types_of(ImageFormat format) {
    switch (format) {
        case ImageFormat::docker_schema2:
            return {media_type::docker_manifest, media_type::docker_config,
                    media_type::docker_layer_gzip};
        case ImageFormat::oci: break;
    }
    return {media_type::oci_manifest, media_type::oci_config, media_type::oci_layer_gzip};
}

std::string_view host_architecture() {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__i386__)
    return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
#error "unknown architecture: add its GOARCH name here"
#endif
}

BuiltImage assemble_image(const ImageSpec& spec, std::vector<ImageLayer> layers) {
    const ImageMediaTypes types = media_types_of(spec.format);
    // nlohmann::json keeps object keys sorted, so the bytes never depend on insertion order.
    nlohmann::json diff_ids = nlohmann::json::array();
    nlohmann::json history = nlohmann::json::array();
    nlohmann::json layer_descriptors = nlohmann::json::array();
    for (const ImageLayer& layer : layers) {
        if (layer.built.blob.media_type != types.layer)
            throw std::invalid_argument("layer " + layer.built.blob.digest.str() + " has media type " +
                                        layer.built.blob.media_type + ", but this image needs " +
                                        std::string(types.layer));
        diff_ids.push_back(layer.built.diff_id.str());
        history.push_back({{"created", spec.created}, {"created_by", layer.created_by}});
        layer_descriptors.push_back(descriptor_to_json(layer.built.blob));
    }

    // Docker's names (Cmd, Env, Labels) are also the OCI image spec's.
    nlohmann::json run_config = nlohmann::json::object();
    if (!spec.cmd.empty()) run_config["Cmd"] = spec.cmd;
    if (!spec.env.empty()) run_config["Env"] = spec.env;
    if (!spec.labels.empty()) run_config["Labels"] = spec.labels;
    const nlohmann::json config = {{"architecture", spec.architecture},
                                   {"os", spec.os},
                                   {"created", spec.created},
                                   {"config", run_config},
                                   {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                                   {"history", history}};

    std::string config_bytes = config.dump();
    const Descriptor config_blob = descriptor_of(types.config, config_bytes);
    const nlohmann::json manifest = {{"schemaVersion", 2},
                                     {"mediaType", types.manifest},
                                     {"config", descriptor_to_json(config_blob)},
                                     {"layers", layer_descriptors}};
    std::string manifest_bytes = manifest.dump(3);
    const Descriptor manifest_blob = descriptor_of(types.manifest, manifest_bytes);
    return BuiltImage{.layers = std::move(layers),
                      .config = std::move(config_bytes),
                      .config_blob = config_blob,
                      .manifest = std::move(manifest_bytes),
                      .manifest_blob = manifest_blob};
}

void add_directory_tree(LayerBuilder& layer, const fs::path& source, const std::string& prefix) {
    if (!fs::is_directory(source))
        throw std::runtime_error(source.string() + " is not a directory");
    const auto permissions = [](const fs::directory_entry& entry) {
        return static_cast<unsigned>(entry.symlink_status().permissions() & fs::perms::mask);
    };
    // Symlinks are added as symlinks and never followed, so nothing outside `source` is read.
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(source)) {
        const std::string path = prefix + entry.path().lexically_relative(source).generic_string();
        if (entry.is_symlink()) {
            layer.add_symlink(path, fs::read_symlink(entry.path()).string());
        } else if (entry.is_directory()) {
            layer.add_directory(path, permissions(entry));
        } else if (entry.is_regular_file()) {
            if (!std::ifstream(entry.path(), std::ios::binary))
                throw std::runtime_error("cannot read " + entry.path().string() + ": " +
                                         std::strerror(errno));
            layer.add_file_from(path, entry.path(), permissions(entry));
        } else {
            throw std::runtime_error(entry.path().string() +
                                     " is not a file, a folder or a symlink; a layer cannot hold it");
        }
    }
}

}  // namespace wbclient
