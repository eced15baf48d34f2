// The one place where layer entries reach the disk: extract_layer writes one layer into an empty
// folder with it, unpack_image a stack of layers into one rootfs. Both get the same safety rules.
#pragma once

#include "wbclient/image/layer_extractor.hpp"

#include <filesystem>

namespace wbclient::detail {

/// How a layer's whiteout entries (`.wh.<name>`, `.wh..wh..opq`) are treated.
enum class Whiteouts {
    as_files,  ///< written like any file: one layer, seen on its own (extract_layer)
    applied    ///< the OCI image-spec layer rules: they delete from the layers below (unpack_image)
};

/// Writes layers into `root`, an existing folder without symlinks on its path (a
/// StagedDirectory's), one after the other, counting entries and bytes against `limits` over
/// all of them. Throws LayerEntryRefused or std::runtime_error with a one-line message.
class LayerWriter {
public:
    LayerWriter(std::filesystem::path root, ExtractionLimits limits);

    /// Applies one gzipped (or plain) tar on top of what is already there. An entry replaces
    /// what its path holds (a folder only by a non-folder; a folder over a folder merges).
    /// With Whiteouts::applied, the layer's whiteouts are applied first, in a pass of their
    /// own, so they remove only what lower layers wrote, whatever their order in the tar.
    void apply(const std::filesystem::path& layer_file, Whiteouts whiteouts);

    /// Resolves every symlink of the finished tree; one that lands outside `root` is refused
    /// ("<what>: symlink <path> resolves outside the <whole>").
    void check_symlinks(const std::string& what, const std::string& whole) const;

    const ExtractedLayer& totals() const { return totals_; }
    std::size_t whiteouts() const { return whiteouts_; }

private:
    void remove_whited_out(const std::filesystem::path& layer_file, const std::string& layer_name);

    std::filesystem::path root_;
    ExtractionLimits limits_;
    ExtractedLayer totals_;
    std::size_t whiteouts_ = 0;
};

}  // namespace wbclient::detail
