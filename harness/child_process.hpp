// Small pieces every process the harness starts shares.
#pragma once

#include <boost/process/child.hpp>

#include <sys/prctl.h>
#include <sys/types.h>
#include <signal.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace harness {

/// A Boost.Process initializer run in the child before exec: the child is killed when its
/// parent dies, so a test killed by a timeout leaves no registry or program behind.
struct DieWithParent {
    template <class Executor>
    void operator()(Executor&) const {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
};

/// Sends `signal` (SIGTERM: a shutdown, SIGKILL: a crash), waits up to 5 s, then kills and
/// reaps. Does nothing if the child is not running.
inline void end_child(boost::process::child& child, int signal) {
    if (!child.valid() || !child.running()) return;
    ::kill(child.id(), signal);
    for (int i = 0; i < 250 && child.running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (child.running()) child.terminate();
    std::error_code ignored;
    child.wait(ignored);
}

/// The whole file as a string, or "" if it does not exist (logs not written yet).
inline std::string read_whole_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace harness
