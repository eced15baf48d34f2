// Image layers, read back: the entries of a gzipped tar, listed as it streams past.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/http/http.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// One entry of a layer's tar, as `tar -tv` would show it.
struct LayerEntry {
    enum class Type { file, directory, symlink, hardlink, other };

    std::string path;         ///< as stored in the tar, e.g. "bin/busybox"
    Type type = Type::other;
    std::uint64_t size = 0;   ///< content bytes; 0 for anything but a regular file
    unsigned mode = 0;        ///< permission bits with setuid/setgid/sticky, e.g. 01777
    std::string link_target;  ///< what a symlink points to, or the path a hard link repeats
};

/// "file", "directory", "symlink", "hardlink" or "other".
std::string_view to_string(LayerEntry::Type type);
/// The entry as one line in the style of `ls -l`: "lrwxrwxrwx          0 bin/sh -> busybox".
std::string describe(const LayerEntry& entry);

/// A layer blob comes from whoever served it, so reading it is bounded: a few kilobytes of
/// gzip can expand to terabytes (a "gzip bomb"), and a tar can hold millions of entries.
struct LayerLimits {
    std::uint64_t max_uncompressed_bytes = std::uint64_t{1} << 30;  ///< 1 GiB
    std::size_t max_entries = 100'000;
};

struct LayerListing {
    std::vector<LayerEntry> entries;  ///< in tar order
    std::uint64_t uncompressed_size = 0;
    /// SHA-256 of the uncompressed tar: the layer's "diff ID", which an image config lists
    /// under rootfs.diff_ids (the blob digest is of the gzipped bytes).
    Digest diff_id;
};

/// Decompresses a gzipped tar read from `source` and lists its entries, never holding more
/// than a small buffer of it: file contents stream through the hash and are dropped. Throws
/// std::runtime_error with a one-line reason if the data is not gzip, not a tar, corrupt, or
/// exceeds `limits` (checked as bytes are decompressed, so a bomb costs at most the limit).
LayerListing list_layer(const BodySource& source, const LayerLimits& limits = {});
/// The same, over a gzipped tar held in memory.
LayerListing list_layer(std::string_view gzipped_tar, const LayerLimits& limits = {});

}  // namespace wbclient
