// Image layers: a deterministic tar of files, gzipped, with both of its digests.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace wbclient {

/// A layer as written to disk, with the two digests an image needs: `blob.digest` of the
/// gzipped bytes (what the registry stores) and `diff_id` of the uncompressed tar (what the
/// config's rootfs lists).
struct BuiltLayer {
    std::filesystem::path file;
    Descriptor blob;
    Digest diff_id;
};

/// Collects entries, then writes them as one reproducible layer: entries sorted by path,
/// modification time 0, owner root, no host names or paths. Building the same entries twice
/// gives the same digests.
class LayerBuilder {
public:
    void add_directory(std::string path, unsigned mode = 0755);
    void add_file(std::string path, std::string content, unsigned mode = 0644);
    /// The file's bytes are streamed from `source` when the layer is written.
    void add_file_from(std::string path, std::filesystem::path source, unsigned mode = 0755);
    void add_symlink(std::string path, std::string target);
    /// A second name for the file `target`: one of this layer (which must sort before `path`:
    /// entries are written in path order, and a tar names a file before its links) or of a
    /// layer below.
    void add_hard_link(std::string path, std::string target);
    /// The OCI image-spec's deletions, for a layer on top of others: `.wh.<name>` beside `path`
    /// deletes `path` as the layers below left it; `.wh..wh..opq` inside `folder` empties it of
    /// everything the layers below put there (this layer's own entries in it stay).
    void add_whiteout(std::string path);
    void add_opaque_marker(std::string folder);

    /// zlib's level, 0 (stored, for bytes that do not shrink, such as noise) to 9; default 6.
    void set_compression_level(int level);

    /// Writes tar+gzip to `output`, hashing both streams in the same pass.
    BuiltLayer write(const std::filesystem::path& output,
                     std::string_view media_type = media_type::oci_layer_gzip) const;

private:
    enum class Kind { directory, file, symlink, hard_link };
    struct Entry {
        std::string path;
        Kind kind;
        unsigned mode;
        std::string content;  // file content, or symlink or hard link target
        std::filesystem::path source;
    };
    void add(Entry entry);
    std::vector<Entry> entries_;
    int compression_level_ = 6;
};

}  // namespace wbclient
