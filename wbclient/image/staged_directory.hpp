// Folders that appear whole or not at all: filled under a temporary name, renamed on success.
#pragma once

#include <filesystem>

namespace wbclient {

/// A folder that is filled under a temporary sibling name (`"<target>.partial-<pid>"`) and
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

}  // namespace wbclient
