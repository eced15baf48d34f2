// A built image saved as an OCI image layout: what push_layout pushes, and what `skopeo copy
// oci:<dir> docker://...` reads too.
#pragma once

#include "wbclient/image/image_builder.hpp"

#include <filesystem>
#include <string>

namespace wbclient {

/// Writes `image` (each layer streamed from its file, the config, the manifest) into a new
/// OCI layout at `layout`, whose index.json names the manifest with `ref_name` as its
/// org.opencontainers.image.ref.name. Like every OciLayoutWriter, it refuses an existing
/// folder and leaves nothing behind when it fails. Returns the manifest's descriptor.
Descriptor write_image_layout(const BuiltImage& image, const std::filesystem::path& layout,
                              const std::string& ref_name);

}  // namespace wbclient
