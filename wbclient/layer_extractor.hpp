// Image layers, unpacked: a gzipped tar extracted into a folder, refusing anything unsafe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace wbclient {

/// A folder that is filled under a temporary sibling name ("<target>.partial-<pid>") and
/// appears under its real name only on commit(), so a failure never leaves half of it behind.
class StagedDirectory {
public:
    /// Refuses a target that already exists, unless `replace_existing`: then the old folder
    /// stays untouched until commit() swaps the new one in (the caller has made sure the old
    /// one may be deleted).
    explicit StagedDirectory(std::filesystem::path target, bool replace_existing = false);
    ~StagedDirectory();  // removes the temporary folder unless committed
    StagedDirectory(const StagedDirectory&) = delete;
    StagedDirectory& operator=(const StagedDirectory&) = delete;

    /// Where to write meanwhile: an absolute path without symlinks in it.
    const std::filesystem::path& path() const { return staging_; }
    const std::filesystem::path& target() const { return target_; }
    /// Renames the temporary folder to the target (removing the old target first, if it was
    /// to be replaced).
    void commit();

private:
    std::filesystem::path target_;
    std::filesystem::path staging_;
    bool replace_existing_;
    bool committed_ = false;
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
/// nothing outside it was written. Throws std::runtime_error with a one-line reason that
/// names the entry.
ExtractedLayer extract_layer(const std::filesystem::path& layer_file,
                             const std::filesystem::path& target,
                             const ExtractionLimits& limits = {});

/// True if both files hold exactly the same bytes (compared in pieces, never whole in memory).
/// Throws std::runtime_error if either cannot be read.
bool same_contents(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace wbclient
