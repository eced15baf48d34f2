// Small pieces every process the harness starts shares.
#pragma once

#include <boost/process/child.hpp>

#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>
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
    /// Who started the child, taken in the parent when the initializer is made.
    pid_t parent = ::getpid();

    template <class Executor>
    void operator()(Executor&) const {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // A parent that died between fork and prctl sends no signal: the child would run on,
        // re-parented, with nobody left to stop it. Leave before exec instead.
        if (::getppid() != parent) ::_exit(127);
    }
};

/// Sends `signal` (SIGTERM: a shutdown, SIGKILL: a crash), waits up to 5 s, then kills and
/// reaps. Does nothing if the child is known to have exited.
inline void end_child(boost::process::child& child, int signal) {
    if (!child.valid()) return;
    // running() also answers false when it could not ask: only "exited" or "already reaped"
    // (ECHILD) skip the signal, or a registry we failed to ask about would run on.
    const auto still_running = [&child] {
        std::error_code asked;
        const bool running = child.running(asked);
        return running || (asked && asked != std::errc::no_child_process);
    };
    if (!still_running()) return;
    ::kill(child.id(), signal);
    for (int i = 0; i < 250 && still_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::error_code ignored;
    if (still_running()) child.terminate(ignored);
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
