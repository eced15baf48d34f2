#include "wbclient/http/helper_process.hpp"

// Boost.Process v1 as Boost 1.74 ships it, without the two parts this project does not trust
// there: child::wait_for (the deadline is our own poll() and a polled running()) and
// environment::operator[] (an out-of-bounds read under ASan): the child inherits our environment.
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <thread>

namespace bp = boost::process;

namespace wbclient {
namespace {

// Writes `input` to the helper's stdin. A helper that exits without reading would make the
// write raise SIGPIPE and kill the whole program: block it for this thread, and take the
// pending signal away before unblocking. A short write is the helper's business (it sees EOF).
void write_ignoring_sigpipe(int fd, const std::string& input) {
    sigset_t pipe_only, previous;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
    std::size_t written = 0;
    bool broken = false;
    while (written < input.size()) {
        const ssize_t n = ::write(fd, input.data() + written, input.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            broken = errno == EPIPE;
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    if (broken) {
        const timespec no_wait{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

struct OwnProcessGroup {
    template <class Executor>
    void operator()(Executor&) const {
        ::setpgid(0, 0);
    }
};

}  // namespace

HelperOutcome run_helper(const std::filesystem::path& program, const std::vector<std::string>& args,
                         const std::string& input, std::chrono::milliseconds timeout, std::size_t max_output) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bp::pipe to_child;
    bp::pipe from_child;
    std::error_code start_error;
    bp::child child(bp::exe = program.string(), bp::args = args, bp::std_in < to_child,
                    bp::std_out > from_child, bp::std_err > bp::null,
                    bp::extend::on_exec_setup = OwnProcessGroup{}, start_error);
    if (start_error || !child.valid())
        throw std::runtime_error("could not start " + program.filename().string() + ": " + start_error.message());
    const pid_t group = child.id();
    const auto kill_group = [&] {
        ::kill(-group, SIGKILL);
        ::kill(group, SIGKILL);  // in case it died before setpgid took effect
    };

    write_ignoring_sigpipe(to_child.native_sink(), input);
    to_child.close();

    HelperOutcome outcome;
    const int fd = from_child.native_source();
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            outcome.timed_out = true;
            break;
        }
        pollfd watched{.fd = fd, .events = POLLIN, .revents = 0};
        const int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) continue;  // the loop's deadline check decides
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EOF: it closed stdout (usually by exiting)
        outcome.out.append(buffer, static_cast<std::size_t>(n));
        if (outcome.out.size() > max_output) {
            outcome.too_much = true;
            outcome.out.resize(max_output);
            break;
        }
    }
    from_child.close();

    // Stdout closed: give it until the deadline to exit, polling, since child::wait_for is out.
    std::error_code asked;
    while (!outcome.timed_out && !outcome.too_much && child.running(asked) && !asked) {
        if (std::chrono::steady_clock::now() >= deadline) {
            outcome.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (outcome.timed_out || outcome.too_much) kill_group();
    std::error_code ignored;
    child.wait(ignored);
    if (!outcome.timed_out && !outcome.too_much) outcome.exit_code = child.exit_code();
    return outcome;
}

}  // namespace wbclient
