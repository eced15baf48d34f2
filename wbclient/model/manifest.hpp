// Manifests and indexes: the JSON documents that tie an image's blobs together.
#pragma once

#include "wbclient/model/digest.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

namespace media_type {
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view docker_config =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view oci_layer_gzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// OCI 1.1's empty descriptor: the config of an artifact that needs none, the two bytes `{}`.
inline constexpr std::string_view oci_empty = "application/vnd.oci.empty.v1+json";
}  // namespace media_type

/// The Accept header that asks for any of the four manifest kinds. Without it a registry
/// may refuse OCI manifests or rewrite Docker ones into the old schema1.
std::string accept_all_manifests();

bool is_index_type(std::string_view media_type);
bool is_manifest_type(std::string_view media_type);

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;
};

/// A pointer to content: its type, digest and exact size.
struct Descriptor {
    std::string media_type;
    Digest digest;
    std::uint64_t size = 0;
    std::optional<Platform> platform;  ///< set on index entries
    /// OCI 1.1: what kind of artifact the manifest it points at is ("" when not said); set on
    /// the entries of a referrers index, so a client can filter without fetching each one.
    std::string artifact_type;
    std::map<std::string, std::string> annotations;
};

/// A parsed image manifest or index. Exactly one of {config + layers} or {manifests} is
/// filled, depending on `media_type`.
struct Manifest {
    std::string media_type;
    std::optional<Descriptor> config;
    std::vector<Descriptor> layers;
    std::vector<Descriptor> manifests;
    /// OCI 1.1 artifacts: the manifest's `artifactType` ("" when absent) and its `subject`,
    /// the manifest this one refers to (a signature's image, an SBOM's image).
    std::string artifact_type;
    std::optional<Descriptor> subject;

    bool is_index() const { return is_index_type(media_type); }
    /// Everything this document points at: config then layers, or the index's manifests.
    std::vector<Descriptor> references() const;

    /// Parses and validates `bytes`, served with `content_type`. Throws
    /// std::invalid_argument with a one-line reason for anything malformed: not JSON, a
    /// missing or contradictory mediaType, a descriptor without digest or size.
    static Manifest parse(std::string_view bytes, std::string_view content_type);
};

/// The descriptor of bytes held in memory (a config, a manifest): their digest and size.
Descriptor descriptor_of(std::string_view media_type, std::string_view bytes);

Descriptor descriptor_from_json(const nlohmann::json& json);
nlohmann::json descriptor_to_json(const Descriptor& descriptor);

}  // namespace wbclient
