#include "workspace.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace fs = std::filesystem;

namespace harness {

Workspace::Workspace(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / (std::string(prefix) + name + "-" +
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
