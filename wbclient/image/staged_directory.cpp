#include "wbclient/image/staged_directory.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string>

namespace wbclient {
namespace fs = std::filesystem;

StagedDirectory::StagedDirectory(fs::path target, bool replace_existing)
    : target_(std::move(target)), replace_existing_(replace_existing) {
    if (!replace_existing_ && fs::exists(fs::symlink_status(target_)))
        throw std::runtime_error(target_.string() + " already exists; refusing to overwrite it");
    staging_ = fs::absolute(target_);
    staging_ += ".partial-" + std::to_string(::getpid());
    fs::remove_all(staging_);
    fs::create_directory(staging_);
    // No symlink anywhere in the path we write under: the extractor checks every component.
    staging_ = fs::canonical(staging_);
}

StagedDirectory::~StagedDirectory() {
    if (!committed_) {
        std::error_code ignored;
        fs::remove_all(staging_, ignored);
    }
}

void StagedDirectory::commit() {
    if (replace_existing_) fs::remove_all(target_);
    fs::rename(staging_, target_);
    committed_ = true;
}

}  // namespace wbclient
