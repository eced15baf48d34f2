#include "workspace.hpp"

#include "workbook_paths.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace fs = std::filesystem;

namespace harness {

std::string Workspace::prefix() {
    char tag[9];
    std::snprintf(tag, sizeof tag, "%08x",
                  static_cast<unsigned>(std::hash<std::string>{}(paths::source_dir)));
    return "workbook-test-" + std::string(tag) + "-";
}

Workspace::Workspace(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / (prefix() + name + "-" +
                                         std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
}

Workspace::~Workspace() {
    if (const char* keep = std::getenv("WORKBOOK_KEEP_WORKSPACE"); keep && std::string(keep) == "1")
        return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

}  // namespace harness
