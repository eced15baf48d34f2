// Image layers, unpacked: a gzipped tar extracted into a folder, refusing anything unsafe.
#pragma once

#include "wbclient/image/staged_directory.hpp"

#include <cstdint>
#include <stdexcept>
#include <filesystem>
#include <string>

namespace wbclient {

/// A layer holds an entry that extract_layer will not write: a path that escapes, a link that
/// points out, a device, an entry past the limits. The message is one line and names the entry.
class LayerEntryRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A layer comes from whoever served it: a few kilobytes of gzip can expand to terabytes, and
/// a tar can hold millions of entries. Extraction stops at these bounds.
struct ExtractionLimits {
    std::uint64_t max_total_bytes = std::uint64_t{1} << 30;  ///< file contents, 1 GiB
    std::size_t max_entries = 100'000;
};

struct ExtractedLayer {
    std::size_t entries = 0;
    std::uint64_t bytes = 0;  ///< the regular files' contents
};

/// Extracts the gzipped (or plain) tar `layer_file` into the new folder `target`, the way a
/// container runtime unpacks a layer onto an empty root, but safely for the machine doing it:
/// - paths must stay inside: no absolute path, no ".." component;
/// - a symlink may only point inside the layer (relative, and not climbing out with "..");
///   an absolute target would point into this machine's own filesystem;
/// - nothing is written through a symlink, even one that points inside;
/// - a hard link must name a regular file extracted before it, by a path that stays inside;
/// - devices, fifos and sockets are refused, setuid/setgid bits dropped, owners not restored;
/// - the contents may not exceed `limits`.
/// Everything happens in a StagedDirectory: on any failure `target` does not appear and
/// nothing outside it was written. Throws LayerEntryRefused for an entry it refuses and
/// std::runtime_error for a layer it cannot read; either message is one line.
ExtractedLayer extract_layer(const std::filesystem::path& layer_file,
                             const std::filesystem::path& target,
                             const ExtractionLimits& limits = {});

/// True if both files hold exactly the same bytes (compared in pieces, never whole in memory).
/// Throws std::runtime_error if either cannot be read.
bool same_contents(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace wbclient
