// Multi-platform images: an OCI image index or a Docker manifest list over pushed images.
#pragma once

#include "wbclient/model/manifest.hpp"

#include <string>
#include <vector>

namespace wbclient {

/// The two ways to write down one image for several platforms.
enum class IndexFormat {
    oci_index,            ///< application/vnd.oci.image.index.v1+json, listing OCI manifests
    docker_manifest_list  ///< ...distribution.manifest.list.v2+json, listing schema2 manifests
};

/// An index ready to push: its exact bytes and the descriptor that names them.
struct BuiltIndex {
    std::string bytes;
    Descriptor descriptor;
};

/// Writes an index whose entries are `children` in the order given: each the descriptor of an
/// image manifest (media type, digest, size) with the platform its config is for. The same
/// children always give the same bytes. Throws std::invalid_argument with a one-line reason
/// for a child without a platform (or without os or architecture), a child whose media type
/// the format does not list (an OCI index lists OCI manifests, a manifest list Docker schema2
/// ones), or two children for the same platform: a client could not choose between them.
BuiltIndex assemble_index(IndexFormat format, const std::vector<Descriptor>& children);

}  // namespace wbclient
