// A scratch folder per test: registries, programs and layouts of one test live in it.
#pragma once

#include <filesystem>
#include <string>

namespace harness {

/// Creates $TMPDIR/<prefix><name>-<pid>-<n> and removes it on destruction, unless
/// WORKBOOK_KEEP_WORKSPACE=1 asks to keep it for a post-mortem.
class Workspace {
public:
    explicit Workspace(const std::string& name);
    ~Workspace();
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    const std::filesystem::path& path() const { return path_; }

    /// "workbook-test-<tag>-", the tag naming this checkout. Every workspace folder and
    /// compose project of this checkout's builds (build/, build-sanitize/) starts with it, so
    /// the leftover check finds exactly what this checkout's tests started, not another
    /// checkout's running tests.
    static std::string prefix();

private:
    std::filesystem::path path_;
};

}  // namespace harness
