// Small pieces every process the harness starts shares.
#pragma once

#include <sys/prctl.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace harness {

/// A Boost.Process initializer run in the child before exec: the child is killed when its
/// parent dies, so a test killed by a timeout leaves no registry or program behind.
struct DieWithParent {
    template <class Executor>
    void operator()(Executor&) const {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
};

/// The whole file as a string, or "" if it does not exist (logs not written yet).
inline std::string read_whole_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace harness
