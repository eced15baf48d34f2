// A scratch folder per test: registries, programs and layouts of one test live in it.
#pragma once

#include <filesystem>
#include <string>

namespace harness {

/// Creates $TMPDIR/workbook-test-<name>-<pid>-<n> and removes it on destruction, unless
/// WORKBOOK_KEEP_WORKSPACE=1 asks to keep it for a post-mortem.
class Workspace {
public:
    explicit Workspace(const std::string& name);
    ~Workspace();
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    const std::filesystem::path& path() const { return path_; }

    /// Every workspace path starts with this; leftover checks look for it.
    static constexpr const char* prefix = "workbook-test-";

private:
    std::filesystem::path path_;
};

}  // namespace harness
